import { join } from 'node:path';
import { repoRoot } from '../../../../infra/paths.ts';
import { SCHEDULES, findJob, runJob, runningDevEnvironment } from '../schedules.ts';

/**
 * `npm run job -- <name>`: does now what an EventBridge schedule of the CDK app does on its
 * clock. It acts on the running `npm run dev` when there is one (endpoints from
 * `.local/dev.json`); otherwise it starts the local cloud on the same persisted data
 * (`.local/data`), runs the job and stops it. `npm run job` lists the jobs.
 * LOCAL_DIR replaces `.local` (tests point it at a dev.json of their own).
 */
const name = process.argv[2];

if (!name || name === '--list') {
  console.log('Jobs (EventBridge schedules of the CDK app):');
  for (const schedule of SCHEDULES) {
    const target =
      'handler' in schedule.target ? `function ${schedule.target.handler}` : `state machine ${schedule.target.stateMachine}`;
    console.log(`  ${schedule.name.padEnd(16)} → ${target}  ${schedule.description}`);
  }
  console.log('\nRun one with: npm run job -- <name>');
  process.exit(0);
}

if (!findJob(name)) {
  console.error(`Unknown job "${name}". Jobs: ${SCHEDULES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

// The job's report is what stdout shows; its handler's info logs would mix into it.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
const localDir = process.env.LOCAL_DIR ?? join(repoRoot, '.local');
const devEnvironment = await runningDevEnvironment(localDir);
let stop = async () => undefined as void;
if (devEnvironment) {
  Object.assign(process.env, devEnvironment);
  console.error(`Using the running local cloud (${join(localDir, 'dev.json')}).`);
} else {
  console.error('No local cloud running: starting one on the dev data…');
  const { startLocalCloud } = await import('../cloud.ts');
  const cloud = await startLocalCloud({ port: 0, persistDir: join(localDir, 'data') });
  // What the job changed reaches the stream's workers (billing notifications) before the cloud stops.
  stop = () => cloud.stream.settle().finally(() => cloud.stop());
}

try {
  const run = await runJob(name);
  console.error(`Job ${run.name} (${run.target}) finished in ${run.durationMs} ms.`);
  console.log(JSON.stringify(run.output, null, 2));
} catch (error) {
  console.error(`Job ${name} failed:`, error);
  process.exitCode = 1;
} finally {
  await stop();
}
