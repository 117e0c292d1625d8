// What a benchmark run measures: the full sweep, or (--quick) the headline points only.
import type { HttpScenario } from './http.ts';
import type { Impl, InProcessSpec, StoreKind } from './types.ts';
import type { WorkloadName } from './workloads.ts';

export const SWEEP = [1, 16, 256, 1024] as const;
/** PostgreSQL connections per run at most (engine, naive and pgbench alike): max_connections is 100. */
export const PG_MAX_POOL = 32;
export const HTTP_CONNECTIONS = 100;
/** The batch route's point: this many items per request over this many connections. */
export const HTTP_BATCH = { items: 500, connections: 8 } as const;

const SEEDS: Record<WorkloadName, number> = {
  hot: 20_261_101,
  pool: 20_261_105,
  uniform: 20_261_102,
  zipf: 20_261_103,
  accounts200: 20_261_104,
};

export interface Plan {
  quick: boolean;
  warmupMs: number;
  durationMs: number;
  inProcess: Omit<InProcessSpec, 'dir' | 'pgUrl'>[];
  pgbench: number[];
  http: HttpScenario[];
}

type Point = [StoreKind, Impl, WorkloadName, number];

function expand(stores: StoreKind[], impls: Impl[], workloads: WorkloadName[], sweep: readonly number[]): Point[] {
  const points: Point[] = [];
  for (const store of stores)
    for (const workload of workloads)
      for (const concurrency of sweep) for (const impl of impls) points.push([store, impl, workload, concurrency]);
  return points;
}

export function buildPlan(quick: boolean): Plan {
  const warmupMs = quick ? 300 : 1000;
  const durationMs = quick ? 1500 : 5000;
  const all: WorkloadName[] = ['hot', 'pool', 'uniform', 'zipf'];
  // The pool workload (one pool, 100 members) runs wherever the hot account does, beside it.
  const hotAndPool: WorkloadName[] = ['hot', 'pool'];
  const points: Point[] = quick
    ? [
        ...expand(['sqlite-full'], ['engine', 'naive'], hotAndPool, [1]),
        ...expand(['sqlite-full'], ['engine', 'naive', 'engine-unbatched'], hotAndPool, [256]),
        ...expand(['sqlite-full'], ['engine', 'naive'], ['uniform'], [256]),
        ['sqlite-full', 'engine', 'zipf', 256],
        ...expand(['sqlite-normal'], ['engine', 'naive'], hotAndPool, [256]),
        ...expand(['pg'], ['engine', 'naive', 'engine-unbatched'], hotAndPool, [256]),
        ...expand(['pg'], ['engine', 'naive'], ['uniform'], [256]),
        ['pg', 'engine', 'zipf', 256],
      ]
    : [
        ...expand(['sqlite-full'], ['engine', 'naive'], all, SWEEP),
        ...expand(['sqlite-normal'], ['engine', 'naive'], hotAndPool, SWEEP),
        ...expand(['pg'], ['engine', 'naive'], all, SWEEP),
        ...expand(['sqlite-full', 'pg'], ['engine-unbatched'], ['hot', 'pool', 'uniform'], [256]),
      ];
  const scenario = (
    name: string,
    target: HttpScenario['target'],
    workload: WorkloadName,
    groupCommit: boolean | null,
    batch: { items: number; connections: number } | null = null,
  ): HttpScenario => ({
    name,
    target,
    workload,
    groupCommit,
    connections: batch?.connections ?? HTTP_CONNECTIONS,
    batchSize: batch?.items ?? null,
    // The service warms up by requests: as many deductions for the batch route as for the single one.
    warmup: target === 'bare' ? (quick ? 1 : 3) : Math.ceil((quick ? 3000 : 10_000) / Math.min(batch?.items ?? 1, 100)),
    durationSec: quick ? 4 : 10,
    seed: SEEDS[workload],
  });
  const http = [
    scenario('bare', 'bare', 'uniform', null),
    scenario('service-200-accounts', 'service', 'accounts200', true),
    scenario('service-batch-500', 'service', 'accounts200', true, HTTP_BATCH),
    ...(quick
      ? []
      : [
          scenario('service-uniform', 'service', 'uniform', true),
          scenario('service-hot', 'service', 'hot', true),
          scenario('service-pool', 'service', 'pool', true),
          scenario('service-uniform-unbatched', 'service', 'uniform', false),
        ]),
  ];
  return {
    quick,
    warmupMs,
    durationMs,
    inProcess: points.map(([store, impl, workload, concurrency]) => ({
      store,
      impl,
      workload,
      concurrency,
      warmupMs,
      durationMs,
      seed: SEEDS[workload],
      ...(store === 'pg' ? { pgPool: Math.min(concurrency, PG_MAX_POOL) } : {}),
    })),
    pgbench: quick ? [256] : [...SWEEP],
    http,
  };
}
