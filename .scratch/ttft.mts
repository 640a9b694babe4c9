import http from 'node:http';
import { startLocalCloud } from '@platform/local/cloud';
import { startFakeProvider } from '../test/helpers/fake-provider.ts';

const marks: Array<[string, number]> = [];
const mark = (what: string) => { if (!marks.some(([w]) => w === what)) marks.push([what, performance.now()]); };
const origEmit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event: string, ...args: any[]) {
  if (event === 'request') { const url = String(args[0].url); mark(url.includes('/openai/') ? 'recv:gw' : 'recv:fake'); args[0].once('end', () => mark(url.includes('/openai/') ? 'body:gw' : 'body:fake')); }
  return origEmit.call(this, event, ...args);
} as any;
const origReq = http.ClientRequest.prototype.end;
http.ClientRequest.prototype.end = function (...args: any[]) { if (String((this as any).path).includes('chat/completions') && (this as any).getHeader('authorization')?.toString().includes('sk-bench')) mark('send:provider'); return origReq.apply(this, args as any); } as any;
const origWrite = http.ServerResponse.prototype.write;
http.ServerResponse.prototype.write = function (chunk: any, ...rest: any[]) {
  const s = String(chunk);
  if (/"content":"[^"]/.test(s)) mark(String((this as any).req?.url).includes('/openai/') ? 'write:gw' : 'write:fake');
  return origWrite.call(this, chunk, ...rest);
} as any;

const cloud = await startLocalCloud({ port: 0, seed: true });
const fake = await startFakeProvider({ record: false });
fake.setDefault({ kind: 'ok', chunkDelayMs: 2 });
const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
  const res = await fetch(`${cloud.url}${path}`, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json: any = await res.json(); if (!res.ok) throw new Error(JSON.stringify(json)); return json;
};
const signIn = async (a: any) => (await call('POST', '/v1/auth/sign-in', undefined, a)).accessToken;
const admin = await signIn(cloud.demo!.admin); const owner = await signIn(cloud.demo!.user); const orgId = cloud.demo!.teamOrgId;
await call('POST', '/v1/admin/provider-credentials', admin, { label: 'b', providerSlug: 'openai', key: 'sk-bench-0000000000', baseUrl: fake.baseUrl('openai'), isDefault: true });
const client = await call('POST', `/v1/orgs/${orgId}/api-clients`, owner, { name: 'b', scopes: ['gateway:invoke'] });
await call('POST', `/v1/admin/orgs/${orgId}/credits/adjustments`, admin, { amount: 100_000_000, reason: 'bench' });
for (const resource of ['chat', 'api']) await call('PUT', `/v1/admin/orgs/${orgId}/limits`, admin, { subject: 'org', resource, hourly: 1e9 });
await call('POST', `/v1/orgs/${orgId}/routing-rules`, owner, { name: 'b', priority: 1, modelType: 'TEXT', conditions: { models: ['gpt-4o-mini'] }, targets: [{ modelId: 'gpt-4o-mini' }] });

const agent = new http.Agent({ keepAlive: true });
function once(url: string, auth: string) {
  const payload = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Write one line.' }], stream: true, stream_options: { include_usage: true } });
  return new Promise<Record<string, number>>((resolve) => {
    const t0 = performance.now(); marks.length = 0;
    let first: number | undefined; let headersAt = 0; let seen = '';
    const req = http.request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' } }, (res) => {
      headersAt = performance.now() - t0;
      res.on('data', (c) => { if (first === undefined) { seen += c; if (/"content":"[^"]/.test(seen)) first = performance.now() - t0; } });
      res.on('end', () => { if (first === undefined) { console.log(res.statusCode, seen.slice(0, 300)); process.exit(1); } const m = Object.fromEntries(marks.map(([w, t]) => [w, +(t - t0).toFixed(2)])); resolve({ headersAt: +headersAt.toFixed(2), first: +first!.toFixed(2), ...m }); });
    });
    req.end(payload);
  });
}
const gw = `${cloud.url}/openai/v1/chat/completions`; const direct = `${fake.baseUrl('openai')}/chat/completions`;
for (let i = 0; i < 30; i++) { await once(gw, client.key); await once(direct, 'sk'); }
if (process.env.ONLY_GW) { const t = Date.now(); globalThis.__profStart = performance.now(); for (let i = 0; i < 1500; i++) await once(gw, client.key); console.log('gw loop', Date.now() - t, 'ms'); await fake.close(); await cloud.stop(); process.exit(0); }
const rows = [];
for (let i = 0; i < 15; i++) { rows.push({ kind: 'gw', ...(await once(gw, client.key)) }); rows.push({ kind: 'direct', ...(await once(direct, 'sk')) }); await new Promise((r) => setTimeout(r, 30)); }
console.table(rows);
await fake.close(); await cloud.stop(); process.exit(0);
