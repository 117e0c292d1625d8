import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The service's Prometheus metrics, on a registry of its own (one per app, so tests do not collide). */
export class Metrics {
  readonly registry = new Registry();
  readonly deductions = new Counter({
    name: 'tokenmeter_deductions_total',
    help: 'Deductions by feature and outcome (charged, refused)',
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
