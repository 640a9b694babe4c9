import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT, startLocalCloud } from '../cloud.ts';
import { runJob } from '../schedules.ts';

/**
 * `npm run dev`: the whole API on PORT (default 3000), with demo data, persisted under
 * .local/ between runs. Ctrl-C stops everything it started, Java included.
 * LOCAL_DIR replaces `.local`, as for `npm run job` (tests run a dev server of their own there).
 */
const started = Date.now();
const localDir = process.env.LOCAL_DIR ?? join(REPO_ROOT, '.local');
const devFile = join(localDir, 'dev.json');
const shownDevFile = relative(process.cwd(), devFile);
mkdirSync(localDir, { recursive: true });
const port = Number(process.env.PORT ?? 3000);

// Ctrl-C while the cloud starts: it finishes starting, then stops, Java included (Node's default would exit at
// once, leaving DynamoDB Local to a signal sent to the process alone).
let interrupted = false;
const interruptStart = () => {
  interrupted = true;
  console.log('Stopping once started…');
};
process.once('SIGINT', interruptStart);
process.once('SIGTERM', interruptStart);
const cloud = await startLocalCloud({ port, persistDir: join(localDir, 'data'), seed: true });
process.off('SIGINT', interruptStart);
process.off('SIGTERM', interruptStart);
if (interrupted) {
  await cloud.stop();
  process.exit(0);
}

const devInfo = {
  apiUrl: cloud.url,
  docsUrl: `${cloud.url}/docs`,
  openApiUrl: `${cloud.url}/openapi.json`,
  outboxUrl: `${cloud.url}/local/outbox`,
  cognito: {
    endpoint: cloud.cognito.endpoint,
    region: cloud.cognito.region,
    userPoolId: cloud.cognito.userPoolId,
    clientId: cloud.cognito.clientId,
  },
  dynamodb: { endpoint: cloud.dynamo.endpoint, tableName: cloud.tableName },
  s3: { endpoint: cloud.s3.endpoint, bucket: cloud.s3.bucket },
  stripe: {
    apiBase: cloud.stripe.apiBase,
    webhookUrl: cloud.stripe.webhookUrl,
    webhookSecret: cloud.stripe.webhookSecret,
    note: 'The local Stripe: checkout URLs pay when opened and send signed webhooks; sign your own with webhookSecret (README, "How billing works").',
  },
  demoUsers: cloud.demo
    ? [
        { role: 'platform admin', ...cloud.demo.admin },
        { role: 'demo user (owner of Demo Team)', ...cloud.demo.user },
      ]
    : [],
  demoTeamOrgId: cloud.demo?.teamOrgId,
};
writeFileSync(devFile, JSON.stringify(devInfo, null, 2));

console.log(`
  AI Platform API (local cloud) ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  API      ${cloud.url}
  Docs     ${devInfo.docsUrl}
  Outbox   ${devInfo.outboxUrl}
  S3       ${cloud.s3.endpoint}   (bucket ${cloud.s3.bucket}, in memory)
  Stripe   ${cloud.stripe.apiBase}   (local; webhook secret in ${shownDevFile})
  Admin    ${cloud.demo?.admin.email} / ${cloud.demo?.admin.password}
  Demo     ${cloud.demo?.user.email} / ${cloud.demo?.user.password}   (team org ${cloud.demo?.teamOrgId})
  Details  ${shownDevFile}        Ctrl-C stops everything.
`);

// Nothing else fires on a clock here (`npm run job -- <name>`), but model metrics would show
// nothing of past hours without this one, which runs every minute on AWS.
const MODEL_METRICS_EVERY_MS = 60_000;
const metricsTimer = setInterval(() => {
  runJob('model-metrics').catch((error: unknown) => console.error('model-metrics job failed:', error));
}, MODEL_METRICS_EVERY_MS);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  clearInterval(metricsTimer);
  console.log('Stopping…');
  await cloud.stop();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
