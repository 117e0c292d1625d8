import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { requireAccountId } from '../../core/account-id.ts';
import { parseIntStrict } from '../../core/amounts.ts';
import { DEFAULT_EVENTS_PAGE, eventJson, parseEventCursor } from '../../events/events-wire.ts';
import { openLedger } from '../../ledger/open-ledger.ts';
import { createLogger, type Logger } from '../../log/logger.ts';
import type { StoredEvent } from '../../store/outbox-store.ts';
import { EXIT_FAILURE, EXIT_OK, reportError } from '../run-command.ts';
import { webhooksOf } from './webhooks.ts';

/** How often `--follow` asks the store for new events once it has caught up. */
const FOLLOW_POLL_MS = 1000;

interface EventsOptions {
  after?: string;
  account?: string;
  limit?: string;
  follow?: boolean;
  json?: boolean;
  config?: string;
}

/** `events`: the event feed (what `GET /api/events` serves), oldest first; `--follow` tails it. */
export function addEventsCommand(program: Command): void {
  program
    .command('events')
    .description('events oldest first, a page at a time; with --follow, new ones as they happen until Ctrl-C')
    .option('--after <cursor>', 'start after this cursor (a "More:" line gives it; default 0, the start)')
    .option('--account <id>', "only this account's events")
    .option('--limit <n>', 'events per page, 1 to 1000 (default 100)')
    .option('--follow', 'keep printing new events (polling every second) until SIGINT or SIGTERM; exits 0 then')
    .option('--json', 'one JSON object per line, one line per event')
    .option('--config <path>', 'config file (default: $TOKENMETER_CONFIG, else the built-in one)')
    .action((options: EventsOptions) => runEvents(options));
}

/**
 * Not `runWithLedger`: that prints one document when the command ends, and this prints as it
 * reads (a follow never ends by itself). Errors are reported the same way.
 */
async function runEvents(options: EventsOptions): Promise<void> {
  const json = options.json === true;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  let logger: Logger | undefined;
  if (options.follow === true) {
    // Set before anything opens, so a signal at any moment ends the follow cleanly, with exit 0.
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    logger = createLogger();
    let after = options.after === undefined ? 0 : parseEventCursor(options.after);
    const limit = options.limit === undefined ? DEFAULT_EVENTS_PAGE : parseIntStrict('limit', options.limit);
    const account = options.account === undefined ? null : requireAccountId(options.account);
    const ledger = await openLedger({
      ...(options.config === undefined ? {} : { configPath: options.config }),
      logger,
    });
    try {
      const webhooks = webhooksOf(ledger);
      while (!stop.signal.aborted) {
        const page = await webhooks.events({ after, limit, account });
        for (const e of page.events) process.stdout.write(`${json ? JSON.stringify(eventJson(e)) : eventLine(e)}\n`);
        after = page.nextCursor;
        const full = page.events.length === limit;
        if (options.follow !== true) {
          if (full) moreHint(after, options.account, json);
          break;
        }
        // A full page means more may be waiting: read on at once; caught up, wait for new ones.
        if (!full) await sleep(FOLLOW_POLL_MS, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    } finally {
      await ledger.close();
    }
    process.exitCode = EXIT_OK;
  } catch (err) {
    reportError(err, json, logger);
    process.exitCode = EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `timestamp type account #sequence data`. */
function eventLine(e: StoredEvent): string {
  return `${e.timestamp}  ${e.type}  ${e.account}  #${e.sequence}  ${JSON.stringify(e.data)}`;
}

/** Where the next page starts; on stderr with --json, so stdout stays one event per line. */
function moreHint(after: number, account: string | undefined, json: boolean): void {
  const line = `More: tokenmeter events --after ${after}${account === undefined ? '' : ` --account ${account}`}\n`;
  (json ? process.stderr : process.stdout).write(line);
}
