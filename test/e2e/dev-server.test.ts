import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../../infra/paths.ts';

/**
 * `npm run dev` as a developer runs it: its own process (group), its own DynamoDB Local (Java)
 * and Cognito, on free ports beside the suite's local cloud, with its data and dev.json in a
 * temporary LOCAL_DIR so that the repository's `.local/` is left alone. No assertion on time:
 * the readiness target is measured by the benchmarks; here a loaded machine may take longer.
 */
const STARTUP_MS = 180_000;
const STOP_MS = 60_000;

let dir: string;
let server: ChildProcess;
let output = '';

/** Every process of the server's group (the server and what it spawned, Java included), by pid. */
function groupMembers(): Array<{ pid: number; args: string }> {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && Number(match[2]) === server.pid)
    .map((match) => ({ pid: Number(match[1]), args: match[3]! }));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whatever happened to the test, nothing of the server outlives it. */
function killGroup() {
  try {
    if (server?.pid) process.kill(-server.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}. Output of npm run dev:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'platform-dev-'));
  // The test process carries the suite's local cloud in its environment (endpoints, table, Stripe):
  // the dev server must start its own, as it does from a shell.
  const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_DIR: dir, PORT: '0' };
  for (const key of Object.keys(inject('cloud').env)) delete env[key];
  server = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'packages/local/src/bin/dev.ts')], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.once('exit', killGroup);
  server.stdout!.on('data', (chunk) => (output += chunk));
  server.stderr!.on('data', (chunk) => (output += chunk));
  await until('the ready banner', STARTUP_MS, () => {
    if (server.exitCode !== null) throw new Error(`npm run dev exited (${server.exitCode}):\n${output}`);
    return output.includes('Ctrl-C stops everything.') || undefined;
  });
}, STARTUP_MS + 10_000);

afterAll(() => {
  killGroup();
  process.removeListener('exit', killGroup);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface DevJson {
  apiUrl: string;
  cognito: { endpoint: string; region: string; userPoolId: string; clientId: string };
  demoUsers: Array<{ role: string; email: string; password: string }>;
  demoTeamOrgId: string;
}
const devJson = () => JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as DevJson;
const printed = (label: string) => new RegExp(`^\\s*${label}\\s+(\\S+)`, 'm').exec(output)?.[1];

async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const response = await fetch(devJson().apiUrl + path, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text && JSON.parse(text) };
}

async function signIn(role: string) {
  const user = devJson().demoUsers.find((u) => u.role.startsWith(role))!;
  const { status, body } = await call('POST', '/v1/auth/sign-in', { body: { email: user.email, password: user.password } });
  expect({ role, status }).toEqual({ role, status: 200 });
  return body.accessToken as string;
}

describe('npm run dev', () => {
  it('prints the URL and the demo credentials, and writes them with Cognito’s ids to dev.json', () => {
    const info = devJson();
    expect(info.apiUrl).toMatch(/^http:\/\/(127\.0\.0\.1|localhost):\d+$/);
    expect(info.apiUrl).not.toBe(inject('cloud').url);
    expect(printed('API')).toBe(info.apiUrl);
    expect(info.cognito).toEqual({
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      region: 'us-east-1',
      userPoolId: expect.stringMatching(/^us-east-1_\w+$/),
      clientId: expect.any(String),
    });
    expect(info.demoUsers).toEqual([
      { role: 'platform admin', email: 'admin@example.com', password: expect.any(String) },
      { role: expect.stringContaining('demo user'), email: 'demo@example.com', password: expect.any(String) },
    ]);
    for (const user of info.demoUsers) expect(output).toContain(`${user.email} / ${user.password}`);
    expect(output).toContain(`team org ${info.demoTeamOrgId}`);
  });

  it('answers GET /health', async () => {
    expect((await call('GET', '/health')).status).toBe(200);
  });

  it('signs the demo users in through its Cognito, with the endpoint, pool and client of dev.json', async () => {
    const { cognito, demoUsers } = devJson();
    const client = new CognitoIdentityProviderClient({
      endpoint: cognito.endpoint,
      region: cognito.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    for (const user of demoUsers) {
      const answer = await client.send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: cognito.clientId,
          AuthParameters: { USERNAME: user.email, PASSWORD: user.password },
        }),
      );
      expect(answer.AuthenticationResult?.AccessToken, user.email).toEqual(expect.any(String));
    }
    client.destroy();
  });

  it('has a platform admin, and a demo user who owns a team organization', async () => {
    const admin = await signIn('platform admin');
    const demo = await signIn('demo user');
    expect((await call('GET', '/v1/admin/audit-events', { token: admin })).status).toBe(200);
    expect((await call('GET', '/v1/admin/audit-events', { token: demo })).status).toBe(403);

    const { status, body } = await call('GET', '/v1/me/orgs', { token: demo });
    expect(status).toBe(200);
    expect(body.items).toContainEqual(
      expect.objectContaining({ orgId: devJson().demoTeamOrgId, name: 'Demo Team', orgType: 'TEAM', role: 'owner' }),
    );
  });

  it(
    'stops everything it started on Ctrl-C, Java included',
    async () => {
      const members = groupMembers();
      const java = members.filter((p) => /\bjava\b/.test(p.args) && p.args.includes('DynamoDBLocal'));
      expect(java, JSON.stringify(members)).toHaveLength(1);

      // A terminal's Ctrl-C signals the whole group, Java too, which would stop without the
      // server's help; signalled alone, the server must stop Java itself.
      process.kill(server.pid!, 'SIGINT');
      await until(
        'the server to exit',
        STOP_MS,
        () => (server.exitCode ?? server.signalCode ?? undefined) !== undefined || undefined,
      );
      expect({ code: server.exitCode, signal: server.signalCode }).toEqual({ code: 0, signal: null });
      await until('every process of the group to exit', STOP_MS, () => (members.some((p) => alive(p.pid)) ? undefined : true));
      expect(groupMembers()).toEqual([]);
    },
    STOP_MS + 10_000,
  );
});
