import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { GroupCommitStats } from '../ledger/batch/group-commit-options.ts';
import type { DeductResult } from '../ledger/types.ts';

export type DeductionOutcome = 'charged' | 'replayed' | 'refused' | 'conflict';

/** The `outcome` label of tokenmeter_deductions_total: a replay is not a charge, a conflict not a refusal. */
export function deductionOutcome(r: DeductResult): DeductionOutcome {
  if (r.ok) return r.replayed ? 'replayed' : 'charged';
  return r.code === 'idempotency_conflict' ? 'conflict' : 'refused';
}

/** The service's Prometheus metrics, on a registry of its own (one per app, so tests do not collide). */
export class Metrics {
  readonly registry = new Registry();
  readonly deductions = new Counter({
    name: 'tokenmeter_deductions_total',
    help: 'Deductions by feature and outcome: charged, replayed (an idempotency key answered again, nothing charged), refused (insufficient tokens), conflict (a key reused with other parameters)',
    labelNames: ['feature', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly tokensCharged = new Counter({
    name: 'tokenmeter_tokens_charged_total',
    help: 'Tokens charged by feature',
    labelNames: ['feature'] as const,
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'tokenmeter_store_errors_total',
    help: 'Requests that failed because the store was unavailable or failed',
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'tokenmeter_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(groupCommit: () => GroupCommitStats) {
    collectDefaultMetrics({ register: this.registry });
    const figures: [keyof GroupCommitStats, string, string][] = [
      ['batches', 'tokenmeter_group_commit_batches', 'Group-commit batches committed since start'],
      ['operations', 'tokenmeter_group_commit_operations', 'Operations committed in group-commit batches since start'],
      ['largestBatch', 'tokenmeter_group_commit_largest_batch', 'Largest group-commit batch since start'],
      ['rejected', 'tokenmeter_group_commit_rejected', 'Operations refused unavailable because the queue was full'],
      ['splits', 'tokenmeter_group_commit_splits', 'Batches rolled back and re-run one operation at a time'],
    ];
    for (const [field, name, help] of figures) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(groupCommit()[field]);
        },
      });
    }
  }
}
