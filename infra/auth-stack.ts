import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  ProviderAttribute,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClient,
  UserPoolClientIdentityProvider,
  UserPoolDomain,
  UserPoolEmail,
  UserPoolIdentityProviderApple,
  UserPoolIdentityProviderFacebook,
  UserPoolIdentityProviderGoogle,
  VerificationEmailStyle,
} from 'aws-cdk-lib/aws-cognito';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct, IConstruct } from 'constructs';
import { PASSWORD_POLICY } from '@platform/domain/identity/password-policy';
import { limits, type PlatformConfig } from './config.ts';
import { grantKeyUse, grantTableData } from './constructs/access.ts';
import { FunctionBundles } from './constructs/bundles.ts';
import { acknowledge } from './constructs/nag.ts';
import { PlatformFunction } from './constructs/platform-function.ts';
import { functionsDir as defaultFunctionsDir, handlerEntry } from './paths.ts';

export interface AuthStackProps extends StackProps {
  config: PlatformConfig;
  table: TableV2;
  key: IKey;
  /** Where handler modules live; tests point it at fixtures. */
  functionsDir?: string;
}

/** The platform administrators' Cognito group (DOMAIN.md: tenancy and ownership). */
export const ADMIN_GROUP = 'admin';

/**
 * Identity: the Cognito user pool (email sign-in, optional TOTP MFA, hosted UI with Google,
 * Facebook and Apple when switched on), the API's app client, the `admin` group, and the
 * post-confirmation trigger that creates the user's records at sign-up.
 */
export class AuthStack extends Stack {
  readonly userPool: UserPool;
  readonly userPoolClient: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly postConfirmation: PlatformFunction;

  constructor(scope: Construct, id: string, props: AuthStackProps) {
    super(scope, id, props);
    const { config } = props;
    const functionsDir = props.functionsDir ?? defaultFunctionsDir;

    // The trigger gets no USER_POOL_ID and no Cognito permission: the pool depends on the
    // function (it is its trigger), so the function (or the policy it waits for) must not
    // depend on the pool. The event carries userPoolId and the user's attributes, and the
    // trigger only writes the table. Should it ever call Cognito, attach a separate
    // iam.Policy on its role (the function does not wait for it), never its default policy.
    const entry = handlerEntry(functionsDir, 'identity/post-confirmation');
    this.postConfirmation = new PlatformFunction(this, 'PostConfirmation', {
      entry,
      bundles: FunctionBundles.build(this, [entry]),
      functionName: `${config.prefix}-identity-post-confirmation`,
      description: 'Cognito post-confirmation: creates the user, the personal organization, its plan and first credits',
      timeout: limits.cognitoTriggerTimeout,
      environment: {
        TABLE_NAME: props.table.tableName,
        KMS_KEY_ID: props.key.keyArn,
        APP_URL: config.appUrl,
        MAIL_FROM: config.mailFrom,
        POWERTOOLS_SERVICE_NAME: 'identity',
        POWERTOOLS_METRICS_NAMESPACE: config.prefix,
      },
      logRetention: config.logRetention,
      retainLogs: config.isProduction,
    });
    grantTableData(this.postConfirmation.function, props.table.tableArn);
    grantKeyUse(this.postConfirmation.function, props.key.keyArn);

    const plus = config.cognitoFeaturePlan === 'plus';
    this.userPool = new UserPool(this, 'UserPool', {
      userPoolName: `${config.prefix}-users`,
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      userVerification: { emailStyle: VerificationEmailStyle.CODE },
      standardAttributes: {
        email: { required: true, mutable: true },
        fullname: { required: false, mutable: true },
      },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      // The API's schemas and the local pool hold the same policy: no password passes one and fails another.
      passwordPolicy: { ...PASSWORD_POLICY, tempPasswordValidity: Duration.days(3) },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: plus ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      ...(plus ? { standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION } : {}),
      email:
        config.cognitoEmail === 'ses'
          ? UserPoolEmail.withSES({ fromEmail: config.mailFrom, sesVerifiedDomain: config.mailFrom.split('@')[1]! })
          : UserPoolEmail.withCognito(),
      lambdaTriggers: { postConfirmation: this.postConfirmation.function },
      deletionProtection: config.isProduction,
      removalPolicy: config.isProduction ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    acknowledge(this.userPool, {
      'AwsSolutions-COG2':
        'MFA is OPTIONAL by product decision: every user can turn on TOTP (the API has the set-up routes); federated users rely on their identity provider MFA.',
      ...(plus
        ? {}
        : {
            'AwsSolutions-COG8':
              'The essentials feature plan was chosen explicitly for this stage (context cognitoFeaturePlan); threat protection needs plus.',
          }),
    });

    this.userPool.addGroup('AdminGroup', {
      groupName: ADMIN_GROUP,
      description: 'Platform administrators (admin routes check this group in the access token)',
      precedence: 0,
    });

    const providers = this.identityProviders(config);

    this.domain = this.userPool.addDomain('HostedUi', {
      cognitoDomain: { domainPrefix: config.authDomainPrefix },
    });

    this.userPoolClient = this.userPool.addClient('ApiClient', {
      userPoolClientName: `${config.prefix}-api`,
      generateSecret: false,
      authFlows: { userPassword: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      oAuth: {
        flows: { authorizationCodeGrant: true },
        // COGNITO_ADMIN lets hosted-UI tokens call the self-service user APIs (TOTP set-up, sign-out).
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE, OAuthScope.COGNITO_ADMIN],
        callbackUrls: config.callbackUrls,
        logoutUrls: config.logoutUrls,
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO, ...providers.map(({ client }) => client)],
    });
    for (const { provider } of providers) this.userPoolClient.node.addDependency(provider);

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'IssuerUrl', { value: this.userPool.userPoolProviderUrl });
    new CfnOutput(this, 'HostedUiUrl', { value: this.domain.baseUrl() });
  }

  /** Each provider is created only when its context object is present; secrets come from Secrets Manager. */
  private identityProviders(config: PlatformConfig) {
    const { google, facebook, apple } = config.federation;
    const created: { provider: IConstruct; client: UserPoolClientIdentityProvider }[] = [];
    if (google) {
      created.push({
        provider: new UserPoolIdentityProviderGoogle(this, 'Google', {
          userPool: this.userPool,
          clientId: google.clientId,
          clientSecretValue: SecretValue.secretsManager(google.clientSecretName),
          scopes: ['openid', 'email', 'profile'],
          attributeMapping: {
            email: ProviderAttribute.GOOGLE_EMAIL,
            emailVerified: ProviderAttribute.GOOGLE_EMAIL_VERIFIED,
            fullname: ProviderAttribute.GOOGLE_NAME,
            profilePicture: ProviderAttribute.GOOGLE_PICTURE,
          },
        }),
        client: UserPoolClientIdentityProvider.GOOGLE,
      });
    }
    if (facebook) {
      created.push({
        provider: new UserPoolIdentityProviderFacebook(this, 'Facebook', {
          userPool: this.userPool,
          clientId: facebook.clientId,
          // The construct takes a string: this is the `{{resolve:secretsmanager:...}}` dynamic
          // reference, resolved by CloudFormation at deploy time, never the secret itself.
          clientSecret: SecretValue.secretsManager(facebook.clientSecretName).unsafeUnwrap(),
          scopes: ['public_profile', 'email'],
          ...(facebook.apiVersion ? { apiVersion: facebook.apiVersion } : {}),
          attributeMapping: { email: ProviderAttribute.FACEBOOK_EMAIL, fullname: ProviderAttribute.FACEBOOK_NAME },
        }),
        client: UserPoolClientIdentityProvider.FACEBOOK,
      });
    }
    if (apple) {
      created.push({
        provider: new UserPoolIdentityProviderApple(this, 'Apple', {
          userPool: this.userPool,
          clientId: apple.clientId,
          teamId: apple.teamId,
          keyId: apple.keyId,
          privateKeyValue: SecretValue.secretsManager(apple.privateKeySecretName),
          scopes: ['email', 'name'],
          attributeMapping: { email: ProviderAttribute.APPLE_EMAIL, fullname: ProviderAttribute.APPLE_NAME },
        }),
        client: UserPoolClientIdentityProvider.APPLE,
      });
    }
    return created;
  }
}
