import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, StreamViewType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TTL_ATTRIBUTE, tableKeys } from '@platform/domain/shared/table';
import type { PlatformConfig } from './config.ts';

export interface DataStackProps extends StackProps {
  config: PlatformConfig;
}

/**
 * Stateful resources, kept apart so the stacks that change every day (API, functions) can
 * be deployed, or torn down, without touching data: the single table, the platform key,
 * and the assets bucket with its access-log bucket.
 */
export class DataStack extends Stack {
  readonly key: Key;
  readonly table: TableV2;
  readonly assetsBucket: Bucket;
  readonly logsBucket: Bucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const statefulRemoval = config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Retained in every stage: objects in the retained buckets stay readable only with it.
    this.key = new Key(this, 'PlatformKey', {
      alias: `alias/${config.prefix}`,
      description: `${config.prefix}: encrypts the table, the assets and stored secrets (envelope encryption)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const attribute = (name: string) => ({ name, type: AttributeType.STRING });
    this.table = new TableV2(this, 'Table', {
      partitionKey: attribute(tableKeys.primary.partitionKey),
      sortKey: attribute(tableKeys.primary.sortKey),
      globalSecondaryIndexes: tableKeys.indexes.map((index) => ({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
      })),
      billing: Billing.onDemand(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryptionV2.customerManagedKey(this.key),
      deletionProtection: config.isProduction,
      removalPolicy: statefulRemoval,
    });

    // Access logs land in SSE-S3 (S3 server access logging cannot write to SSE-KMS buckets).
    this.logsBucket = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(config.isProduction ? 400 : 90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.assetsBucket = new Bucket(this, 'Assets', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'assets/',
      // For browsers to upload and download with presigned URLs, objects never passing through
      // Lambda. No function issues them yet, and none has access to the bucket.
      cors: [
        {
          allowedOrigins: config.corsOrigins,
          allowedMethods: [HttpMethods.PUT, HttpMethods.GET, HttpMethods.HEAD],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'expire-replaced-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'AssetsBucketName', { value: this.assetsBucket.bucketName });
    // The API stack imported these while its route functions could reach the bucket. CloudFormation
    // refuses to delete an export still imported, and this stack deploys before the API stack: the
    // exports stay until every deployed API stack has dropped its imports (then remove these lines).
    this.exportValue(this.assetsBucket.bucketName);
    this.exportValue(this.assetsBucket.bucketArn);
    new CfnOutput(this, 'PlatformKeyArn', { value: this.key.keyArn });
  }
}
