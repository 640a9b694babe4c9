import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE, tableKeys } from '@platform/domain/shared/table';
import { fixtureFunctionsDir, fixtureRoutes } from './fixtures/routes.ts';
import { synthPlatform, type Synthesized } from './synth.ts';

let dev: Synthesized;
beforeAll(() => {
  dev = synthPlatform({
    routes: fixtureRoutes,
    functionsDir: fixtureFunctionsDir,
    context: { corsOrigins: 'https://app.example.com,https://admin.example.com' },
  });
});

const keyArn = () => ({ 'Fn::GetAtt': [dev.data.getResourceId('AWS::KMS::Key'), 'Arn'] });

describe('the table', () => {
  it('has the keys and indexes of the shared table definition, all strings', () => {
    const attributes = [
      tableKeys.primary.partitionKey,
      tableKeys.primary.sortKey,
      ...tableKeys.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
    ];
    dev.data.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: tableKeys.primary.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableKeys.primary.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayEquals(attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' }))),
      GlobalSecondaryIndexes: tableKeys.indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    });
  });

  it('is on demand, expires items by ttl and streams new and old images', () => {
    dev.data.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('has point-in-time recovery and is encrypted with the platform key', () => {
    dev.data.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { KMSMasterKeyId: keyArn() },
        }),
      ],
    });
  });

  it('can be removed with a development stage (production keeps it: see production.test.ts)', () => {
    dev.data.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] }),
    });
  });
});

describe('the platform key', () => {
  it('is customer managed, rotates, and outlives the stack', () => {
    dev.data.resourceCountIs('AWS::KMS::Key', 1);
    dev.data.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: 'Retain',
    });
    dev.data.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/platform-dev' });
  });
});

describe('the assets bucket', () => {
  const assets = () => {
    const [bucket] = Object.values(
      dev.data.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: Match.anyValue() } }),
    );
    return bucket!;
  };

  it('is private, encrypted with the platform key, and versioned', () => {
    expect(assets().Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() } },
        ],
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('refuses requests without TLS', () => {
    dev.data.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: dev.data.getResourceId('AWS::S3::Bucket', { Properties: { VersioningConfiguration: Match.anyValue() } }) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('lets the configured origins PUT, GET and HEAD with presigned URLs', () => {
    expect(assets().Properties.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedOrigins: ['https://app.example.com', 'https://admin.example.com'],
          AllowedMethods: ['PUT', 'GET', 'HEAD'],
          AllowedHeaders: ['*'],
          ExposedHeaders: ['ETag'],
          MaxAge: 3000,
        },
      ],
    });
  });

  it('aborts incomplete multipart uploads and logs access to the log bucket', () => {
    const logs = dev.data.getResourceId('AWS::S3::Bucket', { Properties: { LoggingConfiguration: Match.absent() } });
    expect(assets().Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
    );
    expect(assets().Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logs }, LogFilePrefix: 'assets/' });
  });

  it('has a log bucket that is private, S3-encrypted and TLS-only', () => {
    dev.data.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.absent(),
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
    });
    dev.data.resourceCountIs('AWS::S3::BucketPolicy', 2);
  });
});
