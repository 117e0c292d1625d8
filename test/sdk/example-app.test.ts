import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { APP_KEY, jsonOf, type LiveService, liveService } from './sdk-helpers.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/express-app.ts', import.meta.url));

/** Starts `node examples/express-app.ts` as its README says, and answers the URL it logs. */
async function startExample(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [EXAMPLE], {
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the example exited with ${code}: ${out}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
  });
  return { child, url };
}

describe('examples/express-app.ts end to end against the real service', () => {
  let s: LiveService;
  let example: { child: ChildProcess; url: string };
  before(async () => {
    s = await liveService();
    example = await startExample({ TOKENMETER_URL: s.url, TOKENMETER_API_KEY: APP_KEY });
  });
  after(async () => {
    const exited = once(example.child, 'exit');
    example.child.kill('SIGTERM');
    await exited;
    await s.close();
  });

  const balance = async (user: string) => jsonOf(await fetch(`${example.url}/api/balance?user=${user}`));
  const summarize = (user: string) =>
    fetch(`${example.url}/api/summarize`, { method: 'POST', headers: { 'x-user-id': user } });

  it('shows the balance, on the page and as JSON', async () => {
    assert.deepEqual(await balance('alice'), {
      account: 'alice',
      balance: 100,
      available: 100,
      features_disabled: false,
    });
    const page = await (await fetch(`${example.url}/?user=alice`)).text();
    assert.match(page, /Balance: <strong>100<\/strong> tokens/);
  });

  it('the protected route charges its feature’s cost once', async () => {
    const res = await summarize('alice');
    assert.equal(res.status, 200);
    assert.equal((await jsonOf(res)).charged, 2);
    assert.equal((await balance('alice')).balance, 98);
    assert.equal((await s.t.ledger.getBalance('alice')).held, 0);
  });

  it('at zero the route answers 402 with the service’s body and the page disables the button', async () => {
    await s.admin.adjust('bob', { balance: 0, reason: 'empty' });
    const res = await summarize('bob');
    assert.equal(res.status, 402);
    const body = await jsonOf(res);
    assert.equal(body.code, 'insufficient_tokens');
    assert.equal(body.cost, 2);
    const page = await (await fetch(`${example.url}/?user=bob`)).text();
    assert.match(page, /out of tokens/);
    assert.match(page, /<button id="summarize" disabled>/);
  });

  it('without a user the route answers 401 and charges no one', async () => {
    const res = await fetch(`${example.url}/api/summarize`, { method: 'POST' });
    assert.equal(res.status, 401);
  });
});
