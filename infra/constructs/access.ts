import { Aws } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { tableKeys } from '@platform/domain/shared/table';

/**
 * Least-privilege grants written out explicitly, so every action and resource is named
 * (no `dynamodb:*`, no `kms:GenerateDataKey*`, no `table/index/*`): the policies read as an
 * inventory and cdk-nag finds no wildcard to acknowledge.
 */

/** Item reads and writes; TransactWriteItems / TransactGetItems are authorised through these. No Scan. */
const TABLE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

export function grantTableData(grantee: IGrantable, tableArn: string) {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ sid: 'TableItems', actions: TABLE_ITEM_ACTIONS, resources: [tableArn] }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'TableIndexes',
      actions: ['dynamodb:Query'],
      resources: tableKeys.indexes.map((index) => `${tableArn}/index/${index.indexName}`),
    }),
  );
}

/**
 * The platform key encrypts the table (DynamoDB uses it on the caller's behalf) and wraps the
 * data keys of stored secrets (`encryptSecret` / `decryptSecret`).
 */
export function grantKeyUse(grantee: IGrantable, keyArn: string) {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'PlatformKey',
      actions: [
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
      ],
      resources: [keyArn],
    }),
  );
}

/** The Admin* calls of the identity provider port (`packages/domain/src/identity/cognito.ts`). */
export const USER_POOL_ADMIN_ACTIONS = [
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminUserGlobalSignOut',
];

export function grantUserPoolAdmin(grantee: IGrantable, userPoolArn: string) {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ sid: 'UserPoolAdmin', actions: USER_POOL_ADMIN_ACTIONS, resources: [userPoolArn] }),
  );
}

/** SES may send only as `mailFrom`, checked on both the address and its domain identity. */
export function grantSendMail(grantee: IGrantable, mailFrom: string) {
  const domain = mailFrom.split('@')[1]!;
  const identity = (name: string) => `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:identity/${name}`;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'SendMail',
      actions: ['ses:SendEmail'],
      resources: [identity(domain), identity(mailFrom)],
      conditions: { StringEquals: { 'ses:FromAddress': mailFrom } },
    }),
  );
}

/**
 * The gateway calls Bedrock's runtime (Converse and ConverseStream are authorised as InvokeModel
 * and InvokeModelWithResponseStream) on foundation models and cross-region inference profiles.
 * Both in any region: a Bedrock credential's `config.region` picks the region of its calls (an
 * `eu.…` profile is called in an EU region), and a profile routes to models in other regions.
 */
export function grantBedrockInvoke(grantee: IGrantable) {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'BedrockInvoke',
      actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      resources: [
        `arn:${Aws.PARTITION}:bedrock:*::foundation-model/*`,
        `arn:${Aws.PARTITION}:bedrock:*:${Aws.ACCOUNT_ID}:inference-profile/*`,
      ],
    }),
  );
}
