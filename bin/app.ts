/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (set CDK_DISABLE_VERSION_CHECK=1).
 *
 * Context switches (cdk.json `context` or `-c key=value`; lists and objects also as JSON):
 *   stage                 stage name, prefixes stacks and functions (default `dev`; `prod` retains data)
 *   authDomainPrefix      Cognito hosted UI domain prefix (default `ai-platform-<stage>`; globally unique)
 *   callbackUrls          OAuth callback URLs of the hosted UI (default `<appUrl>/auth/callback`)
 *   logoutUrls            OAuth sign-out URLs (default `<appUrl>/`)
 *   corsOrigins           browser origins of the API and of presigned uploads (default `http://localhost:5173`)
 *   appUrl                the web app's URL, for links in mail (default: the first CORS origin)
 *   mailFrom              sender of the platform's mail, an SES identity (default `no-reply@example.com`)
 *   cognitoEmail          `cognito` (default) or `ses` (Cognito sends from mailFrom)
 *   cognitoFeaturePlan    `plus` (default: threat protection) or `essentials`
 *   google                { clientId, clientSecretName? } turns Google sign-in on
 *   facebook              { clientId, clientSecretName?, apiVersion? } turns Facebook sign-in on
 *   apple                 { clientId, teamId, keyId, privateKeySecretName? } turns Sign in with Apple on
 *   throttling            { burstLimit, rateLimit } of the API stage (default 200 / 100 per second)
 *   logRetentionDays      CloudWatch Logs retention (default 30; 365 in prod)
 *   housekeepingSchedule  EventBridge Scheduler expression (default `rate(1 hour)`)
 *   billingJobsSchedule   schedule of the subscription jobs (default `rate(1 hour)`)
 *   dailyUsageSchedule    schedule of the daily usage aggregation (default `cron(30 0 * * ? *)`)
 *   modelMetricsSchedule  schedule of the model metrics roll-up (default `rate(1 minute)`)
 *   holdSweepSchedule     schedule of the sweep that closes expired credit holds (default `rate(5 minutes)`)
 *   stripeSecretName      Secrets Manager secret with Stripe's apiKey and webhookSecret (default `platform-<stage>/stripe`)
 *   tracing               `xray` (default: Lambda's active tracing) or `powertools` (`TRACING=powertools` on every function: the Powertools Tracer)
 * Secret names default to `platform-<stage>/<provider>-...`; see infra/README.md.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { routes } from '@platform/api/manifest';
import { buildPlatform } from '../infra/platform.ts';

const app = new App();
buildPlatform(app, { routes });
// Every AwsSolutions finding must be fixed or acknowledged with a reason in the stack code.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
