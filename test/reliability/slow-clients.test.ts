// A slow-client flood against a real server process: three times as many connections as the
// server's cap, each slow in one of four ways (a body sent most of the way and then a byte at a
// time, headers a byte at a time, a reader that pipelines requests for a 1.6 MB file and reads
// nothing, a reader of one such answer that reads nothing). The server's resident memory, read
// from /proc, must stay within what its limits allow: each connection it holds may keep a
// partial body (bodyLimit, 64 KiB) and 64 KiB of buffers and bookkeeping, and streaming the
// answers leaves garbage that V8 collects lazily (Node starts a collection when external memory
// has grown by about 64 MiB), allowed 96 MiB. The same flood without the limits grew it by over
// 400 MiB. Normal requests are served while the flood is within the cap, every slow connection
// is closed by the server's timeouts, and service is normal afterwards. SLOW_CLIENTS sets the
// flood's size.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../helpers/server-call.ts';
import { residentKiB, SERVER_APP_KEY, type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

const FLOOD = Number(process.env.SLOW_CLIENTS ?? 768);
const CAP = Math.ceil(FLOOD / 3);
const BODY_LIMIT_KIB = 64; // the server's default bodyLimit
const BOUND_KIB = CAP * (BODY_LIMIT_KIB + 64) + 96 * 1024;
const TIMEOUT_MS = 2000;

type Kind = 'slow-body' | 'slow-headers' | 'pipelining-reader' | 'stalled-reader';
const KINDS: Kind[] = ['slow-body', 'slow-headers', 'pipelining-reader', 'stalled-reader'];

interface Slow {
  kind: Kind;
  socket: Socket;
  received: string;
}

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** The soft limit on open files of this process, which must hold the whole flood. */
function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? 0);
}

function openSlow(port: number, kind: Kind): Slow {
  const socket = connect(port, '127.0.0.1');
  const slow: Slow = { kind, socket, received: '' };
  socket.on('error', () => {});
  const big = 'GET /docs/static/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n';
  if (kind === 'slow-body') {
    socket.on('data', (chunk: Buffer) => {
      slow.received += chunk.toString('latin1');
    });
    socket.write(
      `POST /api/tokens/deduct HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${SERVER_APP_KEY}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 65000\r\n\r\n{"account":"a","feature":"${'x'.repeat(60_000)}`,
    );
  } else if (kind === 'slow-headers') {
    socket.resume();
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  } else {
    socket.pause();
    socket.write(kind === 'pipelining-reader' ? big.repeat(20) : big);
  }
  return slow;
}

/** Opens slow connections `from`..`to` (kinds in turn), 64 at a time so the listen backlog keeps up. */
async function openBatch(into: Slow[], port: number, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 64) {
    const batch: Slow[] = [];
    for (let j = i; j < Math.min(to, i + 64); j++) batch.push(openSlow(port, KINDS[j % KINDS.length] ?? 'slow-body'));
    into.push(...batch);
    await Promise.all(
      batch.map(
        (s) =>
          new Promise((resolve) => {
            s.socket.once('connect', resolve);
            s.socket.once('close', resolve);
          }),
      ),
    );
  }
}

describe('slow-client flood', {
  skip: openFileLimit() < FLOOD + 500 ? `needs ${FLOOD + 500} open files, the limit is ${openFileLimit()}` : false,
  timeout: 180_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-slow-'));
  let server: ServerProcess | undefined;
  const slow: Slow[] = [];
  after(async () => {
    for (const s of slow) s.socket.destroy();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${FLOOD} slow connections against a cap of ${CAP}: memory bounded, normal requests served, every slow one closed`, async (t) => {
    server = await startServerProcess({
      databaseUrl: `sqlite:${join(dir, 'tokens.db')}`,
      env: {
        TOKENMETER_MAX_CONNECTIONS: String(CAP),
        TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS: String(CAP), // the whole flood comes from 127.0.0.1
        TOKENMETER_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
        TOKENMETER_IDLE_TIMEOUT_MS: String(TIMEOUT_MS),
        LOG_LEVEL: 'info',
      },
    });
    const { pid, url } = server;
    const port = Number(new URL(url).port);
    const normal = async (n: number, tag: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await call(url, 'POST', '/api/tokens/deduct', {
          body: { account: 'normal', feature: 'outbound_call_single', idempotency_key: `${tag}-${i}` },
        });
        statuses.push(r.status);
        statuses.push((await call(url, 'GET', '/api/tokens/balance?account=normal')).status);
      }
      return statuses;
    };
    // Warm up every path the flood touches, so the baseline is the server's working size.
    assert.deepEqual(await normal(5, 'warm-up'), Array(10).fill(200));
    await fetch(`${url}/docs/static/swagger-ui-bundle.js`).then((r) => r.arrayBuffer());
    const baseline = residentKiB(pid);
    const baselineFds = openFds(pid);

    // A byte every 200 ms keeps the slow senders active: only the request timeout can end them.
    const trickle = setInterval(() => {
      for (const s of slow) if (s.kind === 'slow-body' || s.kind === 'slow-headers') s.socket.write('x');
    }, 200);
    try {
      // Within the cap (leaving room for the normal client): the service goes on.
      await openBatch(slow, port, 0, CAP - 16);
      const during = await normal(10, 'during');
      const rssWithin = residentKiB(pid).rss;
      // Beyond the cap.
      await openBatch(slow, port, CAP - 16, FLOOD);
      // Every slow connection is closed by the server: its sockets go back to what they were.
      const deadline = Date.now() + 60_000;
      while (openFds(pid) > baselineFds && Date.now() < deadline) await sleep(100);
      const fdsAfter = openFds(pid);
      const peak = residentKiB(pid).peak;
      const after = await normal(10, 'after');

      const answered408 = slow.filter((s) => s.received.startsWith('HTTP/1.1 408'));
      const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
      t.diagnostic(
        `server RSS ${mb(baseline.rss)} before; ${mb(rssWithin)} with ${CAP - 16} slow connections; peak ${mb(peak)} ` +
          `(+${mb(peak - baseline.rss)}, bound +${mb(BOUND_KIB)}); open fds ${baselineFds} → ${fdsAfter} after the flood; ` +
          `${answered408.length} slow bodies answered 408`,
      );
      assert.deepEqual(during, Array(20).fill(200), 'normal requests are served during the flood');
      assert.ok(peak - baseline.rss <= BOUND_KIB, `peak RSS grew by ${mb(peak - baseline.rss)} > ${mb(BOUND_KIB)}`);
      assert.ok(fdsAfter <= baselineFds, `the server still holds ${fdsAfter - baselineFds} slow connections`);
      assert.ok(answered408.length > 0, 'slow bodies within the cap were answered 408');
      for (const s of answered408) assert.match(s.received, /\r\n\r\n\{"success":false,"code":"invalid_request"/);
      assert.deepEqual(after, Array(20).fill(200), 'normal requests are served after the flood');
      const reconcile = await call(url, 'GET', '/api/admin/reconcile', { as: 'admin' });
      assert.deepEqual(reconcile.body.drift, []);
    } finally {
      clearInterval(trickle);
    }
  });
});
