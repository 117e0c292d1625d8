/**
 * A store whose writer runs on a thread of its own (SQLite's worker) can host code beside it:
 * a module loaded into that thread, given the thread's own store, and called by name. One call
 * then crosses the threads once, where a write transaction driven from this thread crosses once
 * per statement and waits each time for this thread's event loop.
 */
export interface WriterThread {
  /**
   * Loads `module` (a URL) in the writer's thread, which calls its `createHost(store, notify,
   * setup)`; `setup` is copied there (structured clone). Calls made before it is ready wait.
   */
  host(module: string, setup: unknown): WriterHost;
}

/** Code hosted beside the writer: its methods by name, and what it tells this thread unasked. */
export interface WriterHost {
  /** Calls the host's method; resolves or rejects (the same kinds of error) with its outcome. */
  call(method: string, args: unknown[]): Promise<unknown>;
  /** Calls `listener` with each value the host passes to `notify`, in order, before later answers. */
  onNotice(listener: (notice: unknown) => void): void;
}

/** What a hosted module exports: made once per `host` call, in the writer's thread. */
export type CreateHost<S> = (
  store: S,
  notify: (notice: unknown) => void,
  setup: unknown,
) => Record<string, (...args: never[]) => unknown>;
