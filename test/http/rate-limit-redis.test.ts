// Regression (item 13): with several API processes the rate limits were counted per process, so
// N processes allowed N times the limit. With REDIS_URL the three counters (failed
// authentications per address, requests per user token, requests per app key) live in Redis and
// hold across processes; when Redis cannot be reached each process counts alone, logs it once
// and never answers 5xx. Real Redis (127.0.0.1:6379, or a redis-server started here), real
// server processes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  closedPort,
  dropPrefix,
  haveRedisServer,
  type OwnRedis,
  REDIS_TEST_URL,
  redisSuiteSkip,
  startOwnRedis,
  testPrefix,
} from '../helpers/redis-server.ts';
import { call } from '../helpers/server-call.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

const SESSION_SECRET = 'rate-limit-test-session-secret-0123456789';
const BAD = { authorization: 'Bearer tm_app_wrong_0000000000000000000000' };

const dir = mkdtempSync(join(tmpdir(), 'tm-redis-'));
const servers: ServerProcess[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.kill()));
  rmSync(dir, { recursive: true, force: true });
});

let dbs = 0;
/** A server process on a database of its own; they share only Redis and the session secret. */
async function server(env: Record<string, string>): Promise<ServerProcess> {
  dbs++;
  const s = await startServerProcess({
    databaseUrl: `sqlite:${join(dir, `tokens-${dbs}.db`)}`,
    env: { TOKENMETER_SESSION_SECRET: SESSION_SECRET, ...env },
  });
  servers.push(s);
  return s;
}

async function userToken(url: string, account: string): Promise<string> {
  const res = await call(url, 'POST', '/api/sessions', { body: { account } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return String(res.body.token);
}

const balanceAs = (url: string, headers: Record<string, string>, account = 'alice') =>
  call(url, 'GET', `/api/tokens/balance?account=${account}`, { headers }).then((r) => r.status);

const count = (log: string, text: string) => log.split(text).length - 1;

/** Polls `done` until it holds or the deadline passes. */
async function eventually(done: () => Promise<boolean>, deadlineMs = 15_000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

describe('rate limits across processes (Redis)', { skip: await redisSuiteSkip(), timeout: 120_000 }, () => {
  const prefix = testPrefix();
  after(() => dropPrefix(prefix));

  it('regression: with REDIS_URL, two processes share the per-user, per-app-key and auth-failure limits', async () => {
    const env = {
      REDIS_URL: REDIS_TEST_URL,
      TOKENMETER_REDIS_PREFIX: prefix,
      TOKENMETER_RATE_LIMIT_USER: '4',
      TOKENMETER_RATE_LIMIT_APP_KEY: '6',
      TOKENMETER_RATE_LIMIT_AUTH_FAILURES: '3',
    };
    const [a, b] = await Promise.all([server(env), server(env)]);
    assert.ok(a && b);
    const token = await userToken(a.url, 'alice');
    const user = { authorization: `Bearer ${token}` };
    const users = [];
    for (const s of [a, b, a, b, a, b]) users.push(await balanceAs(s.url, user));
    assert.deepEqual(users, [200, 200, 200, 200, 429, 429], 'four user requests in all, across both');

    // One app-key request went to /api/sessions already: five more in all, then 429 on either.
    const apps = [];
    for (const s of [b, a, b, a, b, a, b])
      apps.push((await call(s.url, 'GET', '/api/tokens/balance?account=7')).status);
    assert.deepEqual(apps, [200, 200, 200, 200, 200, 429, 429]);

    const failures = [];
    for (const s of [a, b, a, b]) failures.push(await balanceAs(s.url, BAD));
    assert.deepEqual(failures, [401, 401, 401, 429], 'three failures from this address in all');

    const redis = new Redis(REDIS_TEST_URL);
    try {
      const keys = (await redis.keys(`${prefix}*`)).sort();
      assert.deepEqual(keys, [
        `${prefix}auth-failures:127.0.0.1`,
        `${prefix}requests:key:TOKENMETER_API_KEY`,
        `${prefix}requests:user:alice`,
      ]);
    } finally {
      redis.disconnect();
    }
    for (const s of [a, b]) assert.equal(count(s.logTail(200), 'Redis unreachable'), 0, s.logTail());
  });

  it('Redis unreachable at start: each process counts alone, logs it once, and answers no 5xx', async () => {
    const env = {
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      TOKENMETER_REDIS_PREFIX: prefix,
      TOKENMETER_RATE_LIMIT_USER: '3',
      TOKENMETER_RATE_LIMIT_AUTH_FAILURES: '2',
    };
    const [a, b] = await Promise.all([server(env), server(env)]);
    assert.ok(a && b);
    const user = { authorization: `Bearer ${await userToken(a.url, 'bob')}` };
    const onA = [];
    for (let i = 0; i < 5; i++) onA.push(await balanceAs(a.url, user, 'bob'));
    assert.deepEqual(onA, [200, 200, 200, 429, 429], 'process A still limits, on its own count');
    assert.equal(await balanceAs(b.url, user, 'bob'), 200, 'process B counts its own');
    const bad = [];
    for (let i = 0; i < 4; i++) bad.push(await balanceAs(a.url, BAD));
    assert.deepEqual(bad, [401, 401, 429, 429]);
    for (const s of [a, b]) assert.equal(count(s.logTail(200), 'Redis unreachable'), 1, s.logTail());
  });

  it('Redis going away and coming back: served throughout, one log line each way, shared again after', {
    skip: haveRedisServer() || process.env.CI === 'true' ? false : 'redis-server is not installed',
  }, async () => {
    let own: OwnRedis | undefined;
    try {
      own = await startOwnRedis();
      const s = await server({
        REDIS_URL: own.url,
        TOKENMETER_REDIS_PREFIX: prefix,
        TOKENMETER_RATE_LIMIT_USER: '1000',
        TOKENMETER_RATE_LIMIT_AUTH_FAILURES: '2',
      });
      const user = { authorization: `Bearer ${await userToken(s.url, 'carol')}` };
      assert.equal(await balanceAs(s.url, user, 'carol'), 200);
      await own.kill();
      const during = [];
      for (let i = 0; i < 10; i++) during.push(await balanceAs(s.url, user, 'carol'));
      assert.deepEqual(during, Array(10).fill(200), 'no request fails because Redis is away');
      const bad = [];
      for (let i = 0; i < 3; i++) bad.push(await balanceAs(s.url, BAD));
      assert.deepEqual(bad, [401, 401, 429], 'failures are still limited, in this process');
      assert.equal(count(s.logTail(200), 'Redis unreachable'), 1, s.logTail());

      await own.restart();
      const client = new Redis(own.url);
      try {
        const back = await eventually(async () => {
          assert.equal(await balanceAs(s.url, user, 'carol'), 200);
          return count(s.logTail(200), 'Redis answers again') === 1;
        });
        assert.ok(back, `the process did not use Redis again:\n${s.logTail()}`);
        assert.ok(Number(await client.get(`${prefix}requests:user:carol`)) >= 1, 'counted in Redis again');
      } finally {
        client.disconnect();
      }
      assert.equal(count(s.logTail(200), 'Redis unreachable'), 1);
    } finally {
      await own?.kill();
    }
  });
});
