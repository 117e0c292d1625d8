import type { GroupCommitOptions } from '../src/ledger/batch/group-commit-options.ts';
import type { PhaseCpu } from './http-load.ts';
import type { LatencySummary } from './stats.ts';
import type { WorkloadName } from './workloads.ts';

export type StoreKind = 'sqlite-full' | 'sqlite-normal' | 'pg';
export type Impl = 'engine' | 'engine-unbatched' | 'naive';

export const STORE_LABELS: Record<StoreKind, string> = {
  'sqlite-full': 'SQLite FULL',
  'sqlite-normal': 'SQLite NORMAL',
  pg: 'PostgreSQL',
};

export const IMPL_LABELS: Record<Impl, string> = {
  engine: 'engine, group commit',
  'engine-unbatched': 'engine, group commit off',
  naive: 'naive transaction',
};

/** One in-process run, as the orchestrator hands it to a child process. */
export interface InProcessSpec {
  store: StoreKind;
  impl: Impl;
  workload: WorkloadName;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  seed: number;
  /** A scratch directory for SQLite files. */
  dir: string;
  /** PostgreSQL: the run's database and the pool size (the same for engine and naive). */
  pgUrl?: string;
  pgPool?: number;
}

export interface BatchFigures {
  batches: number;
  operations: number;
  /** Operations per batch in the measured part. */
  average: number;
  largest: number;
  rejected: number;
  splits: number;
}

/** What a run produced; a run whose check failed has `ok: false` and no figures worth quoting. */
export interface InProcessResult {
  spec: InProcessSpec;
  ok: boolean;
  problems: string[];
  measured: number;
  seconds: number;
  perSecond: number;
  latency: LatencySummary;
  /** Share of the measured run's answers that were refusals and replays (all answers, warm-up included). */
  refusedShare: number;
  replayedShare: number;
  batch: BatchFigures | null;
  /** The child process's peak resident memory (harness included). */
  peakRssMb: number | null;
  /**
   * Bytes written in the measured part per deduction measured: on SQLite what the process sent
   * to storage (WAL frames and checkpoints), on PostgreSQL the WAL the server generated. Null
   * where not measured (not Linux, PostgreSQL before 14, results from before).
   */
  bytesPerDeduction?: number | null;
  exhausted: boolean;
  /** The engine's group-commit options (false: off); null for the naive baseline or a crashed run. */
  groupCommit: GroupCommitOptions | false | null;
}

export interface PgbenchResult {
  concurrency: number;
  clients: number;
  threads: number;
  ok: boolean;
  problems: string[];
  transactions: number;
  seconds: number;
  perSecond: number;
  /** pgbench's own tps figure for the whole run (warm-up included). */
  reportedTps: number;
  latency: LatencySummary;
}

export interface HttpResult {
  name: string;
  target: 'bare' | 'service';
  workload: WorkloadName;
  groupCommit: boolean | null;
  connections: number;
  /** Items per request through the batch route; null: the single route. */
  batchSize: number | null;
  ok: boolean;
  problems: string[];
  requests: number;
  seconds: number;
  /** Requests answered per second in the measured part. */
  perSecond: number;
  /** Durable deductions answered per second: requests/s × items per request. */
  deductionsPerSecond: number;
  latency: LatencySummary;
  serverPeakRssMb: number | null;
  /** Bytes the server's process sent to storage in the measured part, per deduction answered (Linux). */
  serverBytesPerDeduction?: number | null;
  /** Cores busy on average in the measured part: the server's process and threads, the load generator's (Linux). */
  cpu: PhaseCpu;
  /** Group-commit batch sizes from the service's /metrics, warm-up included. */
  batch: { average: number; largest: number } | null;
  statusCounts: Record<string, number>;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  sqlite: string;
  postgres: string;
  date: string;
}

/** What bench/webhook-delay.ts measured: deliveries from commit to receipt. */
export interface WebhookDelayResult {
  ok: boolean;
  problems: string[];
  events: number;
  seconds: number;
  deliveriesPerSecond: number;
  /** Commit (the event's timestamp) to receipt, ms, for a burst of events. */
  delay: LatencySummary;
  /** Deduction answered to receipt, ms, one event at a time (the dispatcher idle before each). */
  idleDelay: LatencySummary;
}
