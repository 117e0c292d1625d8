import type { DestinationStream, pino } from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * A log destination that hands the lines logged in one turn of the event loop to `sink` (pino's
 * asynchronous sonic-boom) as one string, at the end of the turn, in order.
 *
 * Why: sonic-boom appends each line to its pending chunk and then measures the chunk's byte
 * length, which makes V8 copy the whole chunk flat on every line. The server logs a line per
 * deduction; that copy was ~4 KB allocated per line (6.7 KB with the message's `→`, a two-byte
 * string), most of the main thread's garbage under load (`node bench/log-cost.ts`). Joined per
 * turn, the chunk is measured once per turn.
 *
 * Nothing is lost that sonic-boom would have kept: the lines wait at most until the end of the
 * turn (an immediate keeps the process alive until then); a fatal line is written at once (pino
 * calls `flushSync` after it); and a process that exits in the middle of a turn
 * (`process.exit`) writes them synchronously first, as pino does for sonic-boom's own chunk.
 * One per process is expected (the server's logger): each is kept until the process exits, for
 * that last write.
 */
export class TurnBatchedDestination implements DestinationStream {
  private readonly sink: SonicBoom;
  private pending: string[] = [];
  private scheduled = false;

  constructor(sink: SonicBoom) {
    this.sink = sink;
    atExit(this);
  }

  write(line: string): boolean {
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.handOver());
    }
    return true;
  }

  /** pino's `logger.flush(cb)`: every pending line handed to sonic-boom now, then its own `flush(cb)`. */
  flush(cb?: (err?: Error) => void): void {
    this.handOver();
    this.sink.flush(cb);
  }

  /** Writes every pending line now, synchronously (the process is exiting). */
  flushSync(): void {
    this.handOver();
    try {
      this.sink.flushSync();
    } catch {
      // A destination already closed (pino's own exit hook checks the same): nothing can be written.
    }
  }

  private handOver(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending.join('');
    this.pending = [];
    this.sink.write(lines);
  }
}

const live = new Set<TurnBatchedDestination>();

function atExit(destination: TurnBatchedDestination): void {
  if (live.size === 0) {
    process.once('exit', () => {
      for (const d of live) d.flushSync();
    });
  }
  live.add(destination);
}
