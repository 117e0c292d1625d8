import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AccountState } from '../../core/account-state.ts';
import { TokenmeterError } from '../../core/errors.ts';
import type { Grant } from '../../core/grant.ts';
import type { Hold } from '../../core/hold.ts';
import type { ServiceStore } from '../service-store.ts';
import type { AccountSnapshot, HistoryPage, ReconcileScan, Store, UsageInUse, WriteTx } from '../store.ts';
import { fromWire, toWire } from '../wire-error.ts';
import type { WriterHost, WriterThread } from '../writer-thread.ts';
import { ReaderThread } from './reader-thread.ts';
import { SqliteConnection, type SqliteSynchronous } from './sqlite-connection.ts';
import { translateSqliteError } from './sqlite-errors.ts';
import { SqliteReads, type StoreReadName } from './sqlite-reads.ts';
import { SqliteServiceQueries } from './sqlite-service-queries.ts';
import type { WorkerMessage, WorkerOptions, WorkerReply, WorkerRequest } from './worker-protocol.ts';

export interface SqliteWorkerStoreOptions {
  /** A database file (`:memory:` cannot be shared between threads: use `SqliteStore`). */
  path: string;
  /** How long a writer waits for another process's transaction (ms). */
  busyTimeoutMs?: number;
  /** Default FULL, as `SqliteStore`. */
  synchronous?: SqliteSynchronous;
  /**
   * Where reads outside write transactions run. `main` (the default): on this thread's own
   * connection, which WAL lets read beside the writer. `worker`: in the writer's thread, behind
   * its COMMITs (measured slower; kept to compare).
   */
  reads?: 'main' | 'worker';
  /** How long the reader thread of scanning reads stays after its last answer (ms; `READER_IDLE_MS`). */
  readerIdleMs?: number;
}

// Tests and `node src/...` run the TypeScript; `dist/` holds the compiled JavaScript beside it.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './sqlite-worker.ts' : './sqlite-worker.js',
  import.meta.url,
);

/** Service reads served on this thread's connection; every other method goes to the writer thread. */
const LOCAL_SERVICE_READS: ReadonlySet<string> = new Set<keyof ServiceStore>([
  'findApiKeyByHash',
  'listApiKeys',
  'nonceUsed',
  'listAccounts',
  'firstEntryAt',
  'listPayments',
  'pendingPaymentEvents',
  'listDisputes',
  'subscriptionsOf',
  'poolMembers',
]);

/**
 * Reads whose cost grows with the ledger, served on the reader thread (`reader-thread.ts`): on
 * this thread, a reconcile of a million entries held every request for 10–15 s, and a 30-day usage
 * report for a fraction of a second, since node:sqlite runs a statement synchronously.
 */
const SCANNING_STORE_READS: ReadonlySet<string> = new Set<StoreReadName>(['reconcile', 'balanceAt']);
const SCANNING_SERVICE_READS: ReadonlySet<string> = new Set<keyof ServiceStore>([
  'queryLedger',
  'usageByDay',
  'usageByAccount',
  'balanceSeries',
  'memberUsageByDay',
]);

type ObjectKeys<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? never : K }[keyof T];
/** WriteTx's sub-objects; methods are forwarded by name, but a new sub-object fails to compile until listed. */
const TX_CHILDREN: Record<ObjectKeys<WriteTx>, true> = {
  payments: true,
  recovery: true,
  topups: true,
  pools: true,
};

/** Property names a caller may probe that are never remote methods (`await` probes `then`). */
const NOT_METHODS: ReadonlySet<string> = new Set(['then', 'constructor', 'toJSON']);

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Call = (method: string, args: unknown[]) => Promise<unknown>;

/**
 * The embedded store with its writer on a worker thread. The worker hosts a `SqliteStore` (its
 * write connection, mutex, migrations and group-commit statements); this thread keeps parsing
 * and answering requests while the worker's COMMIT waits for the disk. `write(fn)` runs `fn`
 * here against a `WriteTx` whose every method is a message to the worker, which serves them
 * inside one transaction there; answers still come only after that COMMIT.
 */
export class SqliteWorkerStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly location: string;
  readonly service: ServiceStore;
  private readonly worker: Worker;
  private readonly reader: SqliteConnection | undefined;
  private readonly reads: SqliteReads | undefined;
  private readonly scans: ReaderThread | undefined;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: unknown) => void }>();
  private nextId = 1;
  private nextTx = 1;
  private nextHost = 1;
  /** Host calls made in this turn of the event loop, sent together at its end. */
  private gathered: WorkerRequest[] = [];
  private readonly noticeListeners = new Map<number, ((notice: unknown) => void)[]>();
  readonly writerThread: WriterThread = { host: (module, setup) => this.host(module, setup) };
  /** Set once the worker is gone: every call fails with it instead of waiting for an answer. */
  private stopped: TokenmeterError | undefined;
  private closing: Promise<void> | undefined;
  private readonly exited: Promise<void>;

  constructor(options: SqliteWorkerStoreOptions) {
    const busyTimeoutMs = options.busyTimeoutMs ?? 15_000;
    this.location = `sqlite:${options.path}`;
    mkdirSync(dirname(options.path), { recursive: true });
    // Opened here first, so a file that cannot be opened fails the constructor, as in-thread.
    if (options.reads !== 'worker') {
      this.reader = new SqliteConnection(options.path, busyTimeoutMs);
      this.reads = new SqliteReads(this.reader);
      this.scans = new ReaderThread({ path: options.path, busyTimeoutMs }, options.readerIdleMs);
    }
    this.service = this.remoteService();
    const workerData: WorkerOptions = { path: options.path, busyTimeoutMs, synchronous: options.synchronous ?? 'FULL' };
    this.worker = new Worker(WORKER_URL, { workerData });
    this.worker.on('message', (message: WorkerMessage) => {
      for (const item of message) {
        if ('notice' in item) for (const listener of this.noticeListeners.get(item.notice) ?? []) listener(item.value);
        else this.settle(item);
      }
    });
    this.worker.on('error', (err) => this.stop(`its SQLite writer thread failed: ${err.message}`));
    this.worker.on('messageerror', (err) => this.stop(`a message to its SQLite writer thread failed: ${err.message}`));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.stop(this.closing ? 'it is closed' : `its SQLite writer thread exited (code ${code})`);
        resolve();
      });
    });
    // Idle, the worker must not keep a process alive; `request` holds it while answers are due.
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  migrate(): Promise<void> {
    return this.request({ kind: 'store', method: 'migrate', args: [] }) as Promise<void>;
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const txId = this.nextTx++;
    let used = false;
    let ended = false;
    const call: Call = (path, args) => {
      if (ended) return Promise.reject(new Error('this write transaction has already ended'));
      used = true;
      return this.request({ kind: 'tx', tx: txId, path, args });
    };
    const children: Record<string, object> = {};
    for (const child of Object.keys(TX_CHILDREN)) children[child] = remote(`${child}.`, call, {});
    let result: T;
    try {
      result = await fn(remote('', call, children) as WriteTx);
    } catch (err) {
      ended = true;
      // The error that failed `fn` is the one to report; a worker gone meanwhile rolled back anyway.
      if (used) await this.request({ kind: 'end', tx: txId, commit: false }).catch(() => undefined);
      throw translateSqliteError(err);
    }
    ended = true;
    // A transaction that touched nothing has nothing to commit.
    if (used) await this.request({ kind: 'end', tx: txId, commit: true });
    return result;
  }

  getAccount(id: string): Promise<AccountState | undefined> {
    return this.read('getAccount', [id]);
  }

  getAccountWithHolds(id: string): Promise<AccountSnapshot | undefined> {
    return this.read('getAccountWithHolds', [id]);
  }

  grants(account: string, options: { includeInactive: boolean }): Promise<Grant[]> {
    return this.read('grants', [account, options]);
  }

  getGrant(id: number): Promise<Grant | undefined> {
    return this.read('getGrant', [id]);
  }

  activeHolds(account: string): Promise<Hold[]> {
    return this.read('activeHolds', [account]);
  }

  getHold(id: number): Promise<Hold | undefined> {
    return this.read('getHold', [id]);
  }

  history(account: string, options: { limit: number; cursor: string | null }): Promise<HistoryPage> {
    return this.read('history', [account, options]);
  }

  balanceAt(account: string, time: number): Promise<number> {
    return this.read('balanceAt', [account, time]);
  }

  reconcile(): Promise<ReconcileScan> {
    return this.read('reconcile', []);
  }

  inUse(): Promise<UsageInUse> {
    return this.read('inUse', []);
  }

  backup(file: string): Promise<void> {
    return this.read('backup', [file]);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    try {
      if (!this.stopped) {
        this.worker.ref();
        await this.request({ kind: 'store', method: 'close', args: [] }).catch((err: unknown) => {
          if (!this.stopped) throw err;
        });
        await this.exited;
      }
    } finally {
      this.reader?.close();
      await this.scans?.close();
    }
  }

  private host(module: string, setup: unknown): WriterHost {
    const host = this.nextHost++;
    const listeners: ((notice: unknown) => void)[] = [];
    this.noticeListeners.set(host, listeners);
    // The worker serves this host's calls once it is made; a failure to make it fails them too.
    const made = this.request({ kind: 'host', host, module, setup });
    made.catch(() => undefined);
    return {
      call: async (method, args) => {
        try {
          return await this.request({ kind: 'call', host, method, args }, true);
        } catch (err) {
          throw translateSqliteError(err);
        }
      },
      onNotice: (listener) => {
        listeners.push(listener);
      },
    };
  }

  private read<K extends StoreReadName>(name: K, args: Parameters<Store[K]>): ReturnType<Store[K]> {
    if (this.stopped && this.closing) return Promise.reject(this.stopped) as ReturnType<Store[K]>;
    if (this.scans && SCANNING_STORE_READS.has(name)) {
      return this.scans.call('store', name, args) as ReturnType<Store[K]>;
    }
    if (this.reads) return Reflect.apply(this.reads[name], this.reads, args) as ReturnType<Store[K]>;
    return this.request({ kind: 'store', method: name, args }) as ReturnType<Store[K]>;
  }

  private remoteService(): ServiceStore {
    const local = this.reader
      ? new SqliteServiceQueries(this.reader, this.reader, () =>
          Promise.reject(new Error('a service write reached the main thread: it belongs to the writer thread')),
        )
      : undefined;
    const forward: Call = (method, args) => this.request({ kind: 'service', method, args });
    return remote(
      '',
      (method, args) => {
        if (this.scans && SCANNING_SERVICE_READS.has(method)) return this.scans.call('service', method, args);
        const fn: unknown = local && LOCAL_SERVICE_READS.has(method) ? Reflect.get(local, method) : undefined;
        return typeof fn === 'function' ? Reflect.apply(fn, local, args) : forward(method, args);
      },
      {},
    ) as ServiceStore;
  }

  /**
   * Sends `message`. A host call (`gather`) waits for the end of this turn of the event loop and
   * goes with every other call made in it, as one message: many requests parsed in one turn
   * cost one copy and one wake-up of the worker. Anything else is sent at once, after them.
   */
  private request(message: WithoutId<WorkerRequest>, gather = false): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      if (gather) {
        if (this.gathered.length === 0) setImmediate(() => this.sendGathered());
        this.gathered.push({ ...message, id } as WorkerRequest);
        return;
      }
      this.sendGathered();
      this.post({ ...message, id } as WorkerRequest);
    });
  }

  private sendGathered(): void {
    if (this.gathered.length === 0) return;
    const requests = this.gathered;
    this.gathered = [];
    try {
      this.worker.postMessage(requests);
    } catch {
      // One of them cannot be copied: send each alone, so only that one fails.
      for (const request of requests) this.post(request);
    }
  }

  private post(request: WorkerRequest): void {
    try {
      this.worker.postMessage(request);
    } catch (err) {
      // An argument that cannot be copied to the worker: this call fails, nothing waits for it.
      this.settle({ id: request.id, ok: false, error: toWire(err) });
    }
  }

  private settle(reply: WorkerReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0 && !this.closing) this.worker.unref();
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(fromWire(reply.error));
  }

  private stop(reason: string): void {
    this.stopped ??= new TokenmeterError('unavailable', `The token store is unavailable: ${reason}`);
    const failed = this.stopped;
    for (const waiting of this.pending.values()) waiting.reject(failed);
    this.pending.clear();
  }
}

/**
 * An object whose every method (any name) calls `call(prefix + name, args)`; `children` are
 * sub-objects returned as they are. Forwarding by name means a method added to the interface
 * works here unchanged.
 */
function remote(prefix: string, call: Call, children: Record<string, object>): object {
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(children, {
    get(target, name) {
      if (typeof name !== 'string' || NOT_METHODS.has(name)) return undefined;
      if (Object.hasOwn(target, name)) return target[name];
      let method = methods.get(name);
      if (!method) {
        method = (...args: unknown[]) => call(prefix + name, args);
        methods.set(name, method);
      }
      return method;
    },
  });
}
