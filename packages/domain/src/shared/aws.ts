/**
 * Configuration shared by every AWS client. In local mode each client gets an explicit
 * endpoint (never a global AWS_ENDPOINT_URL), a region and fake credentials, so the same
 * code runs unchanged on AWS, where none of these variables is set.
 */
export type AwsService = 'dynamodb' | 'cognito' | 's3' | 'sqs' | 'sfn' | 'kms' | 'bedrock' | 'ses' | 'secretsmanager';

const ENDPOINT_VARIABLES: Record<AwsService, string> = {
  dynamodb: 'DYNAMODB_ENDPOINT',
  cognito: 'COGNITO_ENDPOINT',
  s3: 'S3_ENDPOINT',
  sqs: 'SQS_ENDPOINT',
  sfn: 'SFN_ENDPOINT',
  kms: 'KMS_ENDPOINT',
  bedrock: 'BEDROCK_ENDPOINT',
  ses: 'SES_ENDPOINT',
  secretsmanager: 'SECRETS_MANAGER_ENDPOINT',
};

export function awsClientConfig(service: AwsService) {
  const endpoint = process.env[ENDPOINT_VARIABLES[service]];
  const region = process.env.AWS_REGION ?? 'us-east-1';
  if (!endpoint) return { region };
  return {
    region,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // A local S3 has no `<bucket>.<host>` DNS: address buckets in the path.
    ...(service === 's3' ? { forcePathStyle: true } : {}),
  };
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
}
