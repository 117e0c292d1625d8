import cliProgress from 'cli-progress';

/** Progress of a long command, drawn on stderr. */
export interface Progress {
  update(position: number, rows: number): void;
  stop(): void;
}

const SILENT: Progress = { update() {}, stop() {} };

/**
 * A progress bar on stderr when it is a terminal, nothing otherwise (a pipe or a log file
 * gets no control characters). stdout stays free for the command's output.
 */
export function startProgress(options: {
  label: string;
  total: number | null;
  unit: 'rows' | 'bytes';
  stream?: NodeJS.WriteStream;
}): Progress {
  const stream = options.stream ?? process.stderr;
  if (stream.isTTY !== true || options.total === null || options.total <= 0) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${options.label} [{bar}] {percentage}% | {rows} rows | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0, { rows: 0 });
  let running = true;
  return {
    update(position, rows) {
      bar.update(Math.min(position, options.total ?? position), { rows });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
