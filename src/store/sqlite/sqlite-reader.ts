// The SQLite reader thread: serves the reads whose cost grows with the ledger (reconcile, the
// usage reports, the operator's ledger query) on a connection of its own, so a scan of the whole
// ledger holds this thread, never the one that parses and answers requests, nor the writer.
// WAL lets it read beside the writer; each read sees what was committed when it began.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { toWire } from '../wire-error.ts';
import { SqliteConnection } from './sqlite-connection.ts';
import { SqliteReads } from './sqlite-reads.ts';
import { SqliteServiceQueries } from './sqlite-service-queries.ts';
import type { ReaderOptions, ReaderRequest, WorkerReply } from './worker-protocol.ts';

function parent(): MessagePort {
  if (!parentPort) throw new Error('sqlite-reader runs as a worker thread only');
  return parentPort;
}
const port = parent();
const options = workerData as ReaderOptions;
const connection = new SqliteConnection(options.path, options.busyTimeoutMs);
const targets = {
  store: new SqliteReads(connection),
  service: new SqliteServiceQueries(connection, connection, () =>
    Promise.reject(new Error('a service write reached the reader thread: it belongs to the writer thread')),
  ),
};

async function serve(request: Extract<ReaderRequest, { kind: 'store' | 'service' }>): Promise<WorkerReply> {
  try {
    const target = targets[request.kind];
    const fn: unknown = Reflect.get(target, request.method);
    if (typeof fn !== 'function' || request.method === 'constructor') {
      throw new Error(`the SQLite reader has no method ${request.method}`);
    }
    return { id: request.id, ok: true, value: await Reflect.apply(fn, target, request.args) };
  } catch (err) {
    return { id: request.id, ok: false, error: toWire(err) };
  }
}

async function handle(request: ReaderRequest): Promise<void> {
  if (request.kind === 'close') {
    connection.close();
    port.close();
    return;
  }
  const reply = await serve(request);
  try {
    port.postMessage(reply);
  } catch (err) {
    // An answer that cannot be copied back: the read fails with why, the thread goes on.
    port.postMessage({ id: reply.id, ok: false, error: toWire(err) } satisfies WorkerReply);
  }
}

// One at a time, in the order sent: each read runs synchronously on the one connection.
let queue = Promise.resolve();
port.on('message', (request: ReaderRequest) => {
  queue = queue.then(() => handle(request));
});
