/** The engine's only source of time: every timestamp is read from here, never from the database. */
export interface Clock {
  /** Milliseconds since the Unix epoch, UTC. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for tests and replays. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | string | Date) {
    this.current = new Date(start).getTime();
    if (!Number.isFinite(this.current)) throw new RangeError(`invalid start time: ${String(start)}`);
  }

  now(): number {
    return this.current;
  }

  set(time: number | string | Date): void {
    const next = new Date(time).getTime();
    if (!Number.isFinite(next)) throw new RangeError(`invalid time: ${String(time)}`);
    this.current = next;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
