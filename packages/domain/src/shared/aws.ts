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

type Signer = (authScheme?: { signingRegion?: string; signingName?: string }) => Promise<unknown>;

/**
 * Has `client` sign every request with one SigV4 signer per signing region and service. The
 * SDK builds a new signer for each request (a copy of the client's whole configuration), and a
 * new signer starts with an empty cache of signing keys, so every request also derived its
 * day's key again (four HMACs). A signer still reads the credentials through the client's
 * provider at each signature, and keys its cache by them: rotated credentials are used as
 * before. A signer that could not be built is not kept.
 */
export function reuseSigners<Client extends { config: object }>(client: Client): Client {
  const config = client.config as { signer?: Signer };
  const build = config.signer;
  if (!build) return client;
  const signers = new Map<string, Promise<unknown>>();
  config.signer = (authScheme) => {
    const key = `${authScheme?.signingRegion}/${authScheme?.signingName}`;
    let signer = signers.get(key);
    if (!signer) {
      signer = build(authScheme);
      signers.set(key, signer);
      signer.catch(() => signers.delete(key));
    }
    return signer;
  };
  return client;
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
}
