import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on a construct and everything under it. cdk-nag 3 reads
 * CDK's own acknowledgements (`Validations.of(x).acknowledge`); each finding of a rule that
 * reports several (IAM5) is acknowledged by its exact id, e.g. `AwsSolutions-IAM5[Resource::*]`.
 */
export function acknowledge(scope: IConstruct, findings: Record<string, string>) {
  for (const [id, reason] of Object.entries(findings)) Validations.of(scope).acknowledge({ id, reason });
}
