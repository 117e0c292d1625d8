// What a read of an account may show while operations on it are in flight, for the "bank"
// workload. Every operation is recorded with the range its effect may have (a deduction of
// cost 5: balance −5 or 0) and, once answered, its actual effect. A read must show exactly the
// operations answered before it was sent, plus any subset of those that overlapped it; so its
// figures must lie between the sum of the certain effects plus every possible decrease and the
// same plus every possible increase. Ticks are a logical clock: one event loop orders them.

export interface Figures {
  balance: number;
  held: number;
}

export interface Effect {
  /** The least and most this operation may change the figures by. */
  lo: Figures;
  hi: Figures;
}

interface Op extends Effect {
  start: number;
  end: number | null;
  actual: Figures | null;
}

export type Range = [number, number];

let clock = 0;
const tick = () => ++clock;

const ZERO: Figures = { balance: 0, held: 0 };
const add = (a: Figures, b: Figures): Figures => ({ balance: a.balance + b.balance, held: a.held + b.held });

/** An effect that is either nothing or exactly `delta` (an adjustment, a credit, a deduction of known cost). */
export function eitherNoneOr(delta: Partial<Figures>): Effect {
  const d = { ...ZERO, ...delta };
  return {
    lo: { balance: Math.min(0, d.balance), held: Math.min(0, d.held) },
    hi: { balance: Math.max(0, d.balance), held: Math.max(0, d.held) },
  };
}

/** One account's acknowledged figures and its operations in flight. */
export class AccountBounds {
  private settled: Figures;
  private ops: Op[] = [];
  private readonly reads = new Set<number>();
  /** Tokens that operator adjustments sent so far may have removed: the only way below zero. */
  removedByOperator = 0;

  constructor(opening: Figures) {
    this.settled = { ...opening };
  }

  begin(effect: Effect): { end(actual: Partial<Figures>): void } {
    const op: Op = { ...effect, start: tick(), end: null, actual: null };
    this.ops.push(op);
    return {
      end: (actual) => {
        const a = { ...ZERO, ...actual };
        for (const key of ['balance', 'held'] as const) {
          if (a[key] < op.lo[key] || a[key] > op.hi[key]) {
            throw new Error(`an effect of ${a[key]} on ${key} is outside [${op.lo[key]}, ${op.hi[key]}]`);
          }
        }
        op.actual = a;
        op.end = tick();
        this.fold();
      },
    };
  }

  /** Call when a read is sent; `finish` when its answer arrives gives the ranges it must lie in. */
  beginRead(): { finish(): { balance: Range; held: Range } } {
    const start = tick();
    this.reads.add(start);
    return {
      finish: () => {
        const lo = { ...this.settled };
        const hi = { ...this.settled };
        for (const op of this.ops) {
          const certain = op.end !== null && op.end < start && op.actual;
          for (const key of ['balance', 'held'] as const) {
            if (certain) {
              lo[key] += op.actual?.[key] ?? 0;
              hi[key] += op.actual?.[key] ?? 0;
            } else if (op.actual) {
              lo[key] += Math.min(0, op.actual[key]);
              hi[key] += Math.max(0, op.actual[key]);
            } else {
              lo[key] += op.lo[key];
              hi[key] += op.hi[key];
            }
          }
        }
        this.reads.delete(start);
        this.fold();
        return { balance: [lo.balance, hi.balance], held: [lo.held, hi.held] };
      },
    };
  }

  /** The figures once nothing is in flight. */
  final(): Figures {
    if (this.ops.length > 0) throw new Error(`${this.ops.length} operations are still in flight or unresolved`);
    return { ...this.settled };
  }

  // Answered operations that every read still in flight has to count as certain are summed up.
  private fold(): void {
    const oldestRead = Math.min(Number.POSITIVE_INFINITY, ...this.reads);
    const keep: Op[] = [];
    for (const op of this.ops) {
      if (op.end !== null && op.end < oldestRead && op.actual) this.settled = add(this.settled, op.actual);
      else keep.push(op);
    }
    this.ops = keep;
  }
}

/** Whether `value` lies in `range`. */
export const within = (value: number, [lo, hi]: Range) => value >= lo && value <= hi;
