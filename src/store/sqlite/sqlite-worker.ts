// The SQLite writer thread: hosts one `SqliteStore` (its write connection, its mutex, group
// commit's statements) and serves the main thread's requests, so the disk's flush at COMMIT
// blocks this thread and never the one that parses and answers requests.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { WriteTx } from '../store.ts';
import { toWire } from '../wire-error.ts';
import type { CreateHost } from '../writer-thread.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { WorkerMessage, WorkerOptions, WorkerReply, WorkerRequest } from './worker-protocol.ts';

type TxRequest = Extract<WorkerRequest, { kind: 'tx' | 'end' }>;

function parent(): MessagePort {
  if (!parentPort) throw new Error('sqlite-worker runs as a worker thread only');
  return parentPort;
}
const port = parent();
const options = workerData as WorkerOptions;
const store = new SqliteStore(options);

/**
 * What is to be sent, in order. Answers settled in one turn (a batch's, all at its COMMIT) go
 * out as one message: one copy and one wake-up of the main thread instead of one per answer.
 */
let outbox: WorkerMessage = [];
function send(item: WorkerMessage[number]): void {
  if (outbox.length === 0) setImmediate(flushOutbox);
  outbox.push(item);
}
function flushOutbox(): void {
  if (outbox.length === 0) return;
  const message = outbox;
  outbox = [];
  port.postMessage(message);
}

const reply = (message: WorkerReply) => send(message);
const fail = (id: number, err: unknown) => reply({ id, ok: false, error: toWire(err) });

/** Thrown inside `store.write` to roll the transaction back when the main thread asks. */
const ROLLBACK = Symbol('rollback');

/** One transaction's requests, served in order by the `store.write` that holds it open. */
class TxSession {
  private readonly inbox: TxRequest[] = [];
  private wake: (() => void) | undefined;
  /** Why BEGIN (or COMMIT) failed: every later request of this transaction gets it. */
  failed: { err: unknown } | undefined;

  push(request: TxRequest): void {
    if (this.failed) {
      this.answerFailed(request);
      return;
    }
    this.inbox.push(request);
    this.wake?.();
  }

  async next(): Promise<TxRequest> {
    for (;;) {
      const request = this.inbox.shift();
      if (request) return request;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  abort(err: unknown): void {
    this.failed = { err };
    for (const request of this.inbox.splice(0)) this.answerFailed(request);
  }

  private answerFailed(request: TxRequest): void {
    if (request.kind === 'end') {
      sessions.delete(request.tx);
      // A rollback of a transaction that never began is done; a commit of it is not.
      if (request.commit) fail(request.id, this.failed?.err);
      else reply({ id: request.id, ok: true, value: undefined });
    } else {
      fail(request.id, this.failed?.err);
    }
  }
}

const sessions = new Map<number, TxSession>();

function begin(txId: number): TxSession {
  const session = new TxSession();
  sessions.set(txId, session);
  let endId = -1;
  store
    .write(async (tx) => {
      for (;;) {
        const request = await session.next();
        if (request.kind === 'end') {
          endId = request.id;
          if (request.commit) return;
          throw ROLLBACK;
        }
        try {
          reply({ id: request.id, ok: true, value: await invoke(tx, request.path, request.args) });
        } catch (err) {
          fail(request.id, err);
        }
      }
    })
    .then(
      () => {
        sessions.delete(txId);
        reply({ id: endId, ok: true, value: undefined });
      },
      (err: unknown) => {
        if (err === ROLLBACK) {
          sessions.delete(txId);
          reply({ id: endId, ok: true, value: undefined });
        } else if (endId >= 0) {
          // COMMIT failed (a full disk): the transaction is rolled back, the caller told so.
          sessions.delete(txId);
          fail(endId, err);
        } else {
          // BEGIN failed (the database stayed locked): nothing of it ran.
          session.abort(err);
        }
      },
    );
  return session;
}

/** Calls `path` (`method` or `child.method`) on the transaction, by name. */
function invoke(tx: WriteTx, path: string, args: unknown[]): Promise<unknown> {
  const dot = path.indexOf('.');
  const target: unknown = dot < 0 ? tx : (tx as unknown as Record<string, unknown>)[path.slice(0, dot)];
  return callMethod(target, dot < 0 ? path : path.slice(dot + 1), args);
}

function callMethod(target: unknown, method: string, args: unknown[]): Promise<unknown> {
  const fn = typeof target === 'object' && target !== null ? Reflect.get(target, method) : undefined;
  if (typeof fn !== 'function' || method === 'constructor') {
    return Promise.reject(new Error(`the SQLite worker has no method ${method}`));
  }
  return Promise.resolve(Reflect.apply(fn, target, args));
}

type Host = Record<string, (...args: unknown[]) => unknown>;
/** Hosts by id; each is ready once its module has loaded. */
const hosts = new Map<number, Promise<Host>>();

function makeHost(request: Extract<WorkerRequest, { kind: 'host' }>): void {
  const made = import(request.module).then((mod: { createHost?: CreateHost<SqliteStore> }) => {
    if (typeof mod.createHost !== 'function') throw new Error(`${request.module} exports no createHost`);
    return mod.createHost(store, (value) => send({ notice: request.host, value }), request.setup) as Host;
  });
  hosts.set(request.host, made);
  made.then(
    () => reply({ id: request.id, ok: true, value: undefined }),
    (err: unknown) => fail(request.id, err),
  );
}

async function callHost(request: Extract<WorkerRequest, { kind: 'call' }>): Promise<void> {
  try {
    const host = await hosts.get(request.host);
    if (!host) throw new Error(`the SQLite worker has no host ${request.host}`);
    reply({ id: request.id, ok: true, value: await callMethod(host, request.method, request.args) });
  } catch (err) {
    fail(request.id, err);
  }
}

async function serve(request: Extract<WorkerRequest, { kind: 'store' | 'service' }>): Promise<void> {
  try {
    if (request.kind === 'store' && request.method === 'write') throw new Error('write is not callable by name');
    const target = request.kind === 'store' ? store : store.service;
    const value = await callMethod(target, request.method, request.args);
    reply({ id: request.id, ok: true, value });
    // Once closed, nothing is left to serve: let the thread end (after the answer is out).
    if (request.kind === 'store' && request.method === 'close') {
      flushOutbox();
      port.close();
    }
  } catch (err) {
    fail(request.id, err);
  }
}

function handle(request: WorkerRequest): void {
  switch (request.kind) {
    case 'store':
    case 'service':
      void serve(request);
      return;
    case 'host':
      makeHost(request);
      return;
    case 'call':
      void callHost(request);
      return;
    case 'tx':
      (sessions.get(request.tx) ?? begin(request.tx)).push(request);
      return;
    case 'end': {
      const session = sessions.get(request.tx);
      // A transaction nothing was asked of never began.
      if (session) session.push(request);
      else reply({ id: request.id, ok: true, value: undefined });
    }
  }
}

// Host calls made in one turn of the main thread come as one array, in order.
port.on('message', (message: WorkerRequest | WorkerRequest[]) => {
  if (Array.isArray(message)) for (const request of message) handle(request);
  else handle(message);
});
