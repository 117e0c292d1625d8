import { performance } from 'node:perf_hooks';
import { Latencies, type LatencySummary } from './stats.ts';
import { type Outcome, Tally } from './tally.ts';
import type { Op, WorkloadStream } from './workloads.ts';

/** What is being measured: one deduction at a time, as a caller sees it. */
export interface DeductTarget {
  deduct(op: Op): Promise<Outcome>;
}

export interface DriveOptions {
  concurrency: number;
  /** Deductions before this are issued and checked but neither timed nor counted. */
  warmupMs: number;
  /** Callers stop issuing new deductions this long after the warm-up. */
  durationMs: number;
  /** Called once, when the measured part starts. */
  onMeasureStart?: () => void;
}

export interface DriveResult {
  /** Deductions issued in the measured part (all answered). */
  measured: number;
  seconds: number;
  perSecond: number;
  latency: LatencySummary;
  tally: Tally;
  /** The stream ran out (MAX_OPS) before the time was up. */
  exhausted: boolean;
}

/**
 * `concurrency` callers, each sending its next deduction as soon as the last one is answered
 * (a closed loop), until the time is up. Every answer is tallied for the correctness check.
 */
export async function drive(stream: WorkloadStream, target: DeductTarget, options: DriveOptions): Promise<DriveResult> {
  const tally = new Tally();
  const latencies = new Latencies();
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  let measuring = false;
  let exhausted = false;
  let lastAnswer = measureFrom;

  const caller = async () => {
    for (;;) {
      const issued = performance.now();
      if (issued >= stopAt) return;
      const op = stream.next();
      if (!op) {
        exhausted = true;
        return;
      }
      const timed = issued >= measureFrom;
      if (timed && !measuring) {
        measuring = true;
        options.onMeasureStart?.();
      }
      try {
        tally.add(op, await target.deduct(op));
      } catch (err) {
        tally.addError(op, err);
      }
      if (timed) {
        const answered = performance.now();
        latencies.add(answered - issued);
        if (answered > lastAnswer) lastAnswer = answered;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, caller));
  const seconds = Math.max(1e-6, (lastAnswer - measureFrom) / 1000);
  return {
    measured: latencies.count,
    seconds,
    perSecond: latencies.count / seconds,
    latency: latencies.summary(),
    tally,
    exhausted,
  };
}
