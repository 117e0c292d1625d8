// The HTTP load generator, in a process of its own: autocannon sending
// `POST /api/tokens/deduct` with the workload's deductions, one op per request, or (batchSize)
// `POST /api/tokens/deduct/batch` with batchSize ops per request, every item's result tallied.
//   node bench/http-load.ts '<HttpLoadSpec as JSON>'
// prints an HttpLoadReport as the last line of stdout.
//
// autocannon builds a request (setupRequest) only right before it sends it, and with one request
// in flight per connection the context it passes to onResponse is the one that request was built
// with; so every op drawn is an op sent, and every answer is matched to its op. Run by `amount`
// (not duration), every request sent is answered, so the model of what was sent is exact.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { bytesWritten, cpuSeconds, Latencies, type LatencySummary, perEach } from './stats.ts';
import { compareWithModel, type Outcome, Tally } from './tally.ts';
import { type Op, type WorkloadName, WorkloadStream } from './workloads.ts';

export interface HttpLoadSpec {
  url: string;
  key: string;
  workload: WorkloadName;
  seed: number;
  connections: number;
  /** bare: by duration, answers not checked; service: by amount, every answer tallied. */
  mode: 'bare' | 'service';
  /** Warm-up requests (service) or seconds (bare). */
  warmup: number;
  /** Seconds the measured part should last; for the service its amount is set from the warm-up's rate. */
  durationSec: number;
  /** Ops per request through the batch route; null: one op per request through the single route. */
  batchSize: number | null;
  /** The server's process, whose CPU time the measured part reports (Linux); null: not reported. */
  serverPid: number | null;
}

export interface PhaseReport {
  requests: number;
  seconds: number;
  perSecond: number;
  latency: LatencySummary;
  errors: number;
  timeouts: number;
  statusCounts: Record<string, number>;
  /**
   * Cores busy on average over the phase: the server's process (all its threads; of them its main
   * thread, and its worker threads: the SQLite writer) and this load generator's. On a machine of
   * few cores their sum says whether the run was bound by the CPU, a thread near 1 whether that
   * thread bound it (the load generator is one).
   */
  cpu: PhaseCpu;
  /** Bytes the server's process sent to storage over the phase (Linux); null: not reported. */
  serverBytesWritten: number | null;
}

export interface PhaseCpu {
  server: number | null;
  serverMain: number | null;
  serverWorkers: number | null;
  loadGenerator: number | null;
}

export interface HttpLoadReport {
  warmup: PhaseReport;
  measured: PhaseReport;
  /** Ops drawn from the stream (= requests sent). */
  issued: number;
  tally: ReturnType<Tally['toJSON']>;
  /** Where the answers differ from the model of the ops sent (service only; empty: exact). */
  problems: string[];
}

const spec = JSON.parse(process.argv[2] ?? '') as HttpLoadSpec;
/** The service's own request timeout is 30 s: wait as long for an answer. */
const TIMEOUT_SEC = 30;
const stream = new WorkloadStream(spec.workload, spec.seed);
const tally = new Tally();
const inFlight = new WeakMap<object, { ops: Op[]; sent: number }>();
const perRequest = spec.batchSize ?? 1;

interface DeductAnswer {
  success?: boolean;
  code?: string;
  replayed?: boolean;
}

function outcomeOf(status: number, body: string): Outcome {
  if (status === 402) return 'refused';
  if (status !== 200) throw new Error(`HTTP ${status}: ${body.slice(0, 200)}`);
  return itemOutcome(JSON.parse(body) as DeductAnswer);
}

/** An item of the batch route's answer: exactly what the single route answers (402 refusal: its body). */
function itemOutcome(r: DeductAnswer): Outcome {
  if (r.success === true) return r.replayed === true ? 'replayed' : 'charged';
  if (r.code === 'insufficient_tokens') return 'refused';
  throw new Error(`item answered ${JSON.stringify(r).slice(0, 200)}`);
}

function tallyAnswer(ops: Op[], status: number, body: string): void {
  if (spec.batchSize === null) {
    const [op] = ops;
    if (!op) return;
    try {
      tally.add(op, outcomeOf(status, body));
    } catch (err) {
      tally.addError(op, err);
    }
    return;
  }
  let results: DeductAnswer[] = [];
  try {
    if (status !== 200) throw new Error(`HTTP ${status}: ${body.slice(0, 200)}`);
    results = (JSON.parse(body) as { results: DeductAnswer[] }).results;
    if (results.length !== ops.length) throw new Error(`${ops.length} items sent, ${results.length} results`);
  } catch (err) {
    for (const op of ops) tally.addError(op, err);
    return;
  }
  ops.forEach((op, i) => {
    try {
      tally.add(op, itemOutcome(results[i] ?? {}));
    } catch (err) {
      tally.addError(op, err);
    }
  });
}

function wire(op: Op) {
  return {
    account: op.account,
    feature: op.feature,
    quantity: op.quantity,
    ...(op.key === null ? {} : { idempotency_key: op.key }),
  };
}

async function phase(options: { amount?: number; duration?: number }): Promise<PhaseReport> {
  const latencies = new Latencies();
  // autocannon's own duration ends on its once-a-second sampling tick, so it is whole seconds:
  // the phase is timed here, from the first request built to the last answer.
  let firstSent = Number.POSITIVE_INFINITY;
  let lastAnswer = 0;
  const cpuAtStart = { server: spec.serverPid === null ? null : cpuSeconds(spec.serverPid), own: cpuSeconds() };
  const writtenAtStart = spec.serverPid === null ? null : bytesWritten(spec.serverPid);
  const startedAt = performance.now();
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    timeout: TIMEOUT_SEC,
    ...options,
    requests: [
      {
        method: 'POST',
        path: spec.batchSize === null ? '/api/tokens/deduct' : '/api/tokens/deduct/batch',
        headers: { authorization: `Bearer ${spec.key}`, 'content-type': 'application/json' },
        setupRequest(request, context) {
          const ops: Op[] = [];
          for (let i = 0; i < perRequest; i++) {
            const op = stream.next();
            if (!op) throw new Error('bench: the workload stream ran out');
            ops.push(op);
          }
          const sent = performance.now();
          if (sent < firstSent) firstSent = sent;
          inFlight.set(context, { ops, sent });
          const [single] = ops;
          request.body = JSON.stringify(
            spec.batchSize === null && single ? wire(single) : { deductions: ops.map(wire) },
          );
          return request;
        },
        onResponse(status, body, context) {
          const entry = inFlight.get(context);
          if (!entry) return;
          lastAnswer = performance.now();
          latencies.add(lastAnswer - entry.sent);
          if (spec.mode === 'bare') return;
          tallyAnswer(entry.ops, status, body);
        },
      },
    ],
  });
  const statusCounts: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = Number(stat.count);
  const seconds = Math.max(1e-6, (lastAnswer - firstSent) / 1000);
  const wall = (performance.now() - startedAt) / 1000;
  const serverAtEnd = spec.serverPid === null ? null : cpuSeconds(spec.serverPid);
  const writtenAtEnd = spec.serverPid === null ? null : bytesWritten(spec.serverPid);
  const ownAtEnd = cpuSeconds();
  const busy = (name: string, before: Map<string, number> | null, after: Map<string, number> | null) =>
    before === null || after === null || wall <= 0
      ? null
      : Math.round((Math.max(0, (after.get(name) ?? 0) - (before.get(name) ?? 0)) / wall) * 100) / 100;
  const cpu: PhaseCpu = {
    server: busy('total', cpuAtStart.server, serverAtEnd),
    serverMain: busy('MainThread', cpuAtStart.server, serverAtEnd),
    serverWorkers: busy('WorkerThread', cpuAtStart.server, serverAtEnd),
    loadGenerator: busy('total', cpuAtStart.own, ownAtEnd),
  };
  return {
    requests: latencies.count,
    seconds,
    perSecond: latencies.count / seconds,
    latency: latencies.summary(),
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts,
    cpu,
    serverBytesWritten: perEach(writtenAtStart, writtenAtEnd, 1),
  };
}

let report: HttpLoadReport;
if (spec.mode === 'bare') {
  const warmup = await phase({ duration: spec.warmup });
  const measured = await phase({ duration: spec.durationSec });
  report = { warmup, measured, issued: stream.expectation.issued, tally: tally.toJSON(), problems: [] };
} else {
  const warmup = await phase({ amount: spec.warmup });
  const amount = Math.max(spec.connections * 20, Math.round(warmup.perSecond * spec.durationSec));
  const measured = await phase({ amount });
  const problems: string[] = [];
  const lost = [warmup, measured].reduce((n, p) => n + p.errors + p.timeouts, 0);
  if (lost > 0) {
    problems.push(
      `${lost} request(s) unanswered (connection errors or no answer within ${TIMEOUT_SEC} s): ` +
        'whether the service charged them is unknown, so the exact check cannot pass',
    );
  }
  const answered = (warmup.requests + measured.requests) * perRequest;
  if (answered !== stream.expectation.issued) {
    problems.push(`${stream.expectation.issued} ops sent, ${answered} answered`);
  }
  problems.push(...compareWithModel(tally, stream.expectation));
  report = { warmup, measured, issued: stream.expectation.issued, tally: tally.toJSON(), problems };
}
console.log(JSON.stringify(report));
