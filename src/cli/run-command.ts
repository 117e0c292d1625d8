import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { isTokenmeterError } from '../core/errors.ts';
import { openLedger } from '../ledger/open-ledger.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import type { Refusal } from '../ledger/types.ts';
import { errorJson, type JsonObject, refusalJson } from '../ledger/wire.ts';
import { createLogger, type Logger } from '../log/logger.ts';

/** Exit codes of every command (documented in `tokenmeter --help`). */
export const EXIT_OK = 0;
/** Bad input, unknown names, conflicts, drift, database errors: anything that failed. */
export const EXIT_FAILURE = 1;
/** A deduction refused for insufficient tokens (nothing was charged). */
export const EXIT_REFUSED = 2;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure: bad input, unknown feature or plan, balance_changed, idempotency_conflict,
     drift found by reconcile, config or database errors, usage errors
  2  a deduction refused for insufficient tokens (nothing was charged)

Environment:
  DATABASE_URL       sqlite:<path> (default sqlite:./data/tokenmeter.db)
  TOKENMETER_CONFIG  config file, when --config is not given (default: built-in plans and features)
  LOG_LEVEL          pino level for the logs on stderr (default info); stdout carries only output`;

/** The options every command takes. */
export interface CommonOptions {
  json?: boolean;
  config?: string;
}

/** What a command produced: one JSON document for --json, lines for people otherwise. */
export interface CommandResult {
  json: JsonObject;
  /** Human output, on stdout. */
  lines: string[];
  /** Lines for stderr (a refusal's message, drift), written with --json too. */
  errorLines?: string[];
  exitCode?: number;
}

/** Adds `--json` and `--config <path>` to a command. */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--config <path>', 'config file (default: $TOKENMETER_CONFIG, else the built-in one)');
}

/**
 * Runs a command body: prints its result (JSON or lines), turns a thrown error into a one-line
 * message on stderr (and an error document for --json), and sets the exit code. Never calls
 * process.exit, so buffered logs are flushed before the process ends.
 */
export async function runCommand(
  options: CommonOptions,
  body: (logger: Logger) => Promise<CommandResult>,
  logLevel?: string,
): Promise<void> {
  let logger: Logger | undefined;
  try {
    logger = createLogger(logLevel === undefined ? {} : { level: logLevel });
    const result = await body(logger);
    if (options.json === true) writeJson(result.json);
    else for (const line of result.lines) process.stdout.write(`${line}\n`);
    for (const line of result.errorLines ?? []) process.stderr.write(`${line}\n`);
    process.exitCode = result.exitCode ?? EXIT_OK;
  } catch (err) {
    reportError(err, options.json === true, logger);
    process.exitCode = EXIT_FAILURE;
  }
}

/** Opens the ledger (DATABASE_URL, --config), runs `fn`, and always closes it. */
export function runWithLedger(
  options: CommonOptions,
  fn: (ledger: TokenLedger, logger: Logger) => Promise<CommandResult>,
): Promise<void> {
  return runCommand(options, async (logger) => {
    const ledger = await openLedger({
      ...(options.config === undefined ? {} : { configPath: options.config }),
      logger,
    });
    try {
      return await fn(ledger, logger);
    } finally {
      await ledger.close();
    }
  });
}

/** A refusal as a command result: exit 2 for insufficient tokens, 1 for the other codes. */
export function refusalResult(r: Refusal): CommandResult {
  const refused = r.code === 'insufficient_tokens';
  return {
    json: refusalJson(r),
    lines: [],
    errorLines: [refused ? r.message : `error: ${r.message}`],
    exitCode: refused ? EXIT_REFUSED : EXIT_FAILURE,
  };
}

export function writeJson(json: JsonObject): void {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
}

/**
 * A thrown error: a TokenmeterError's message as is; anything else by its first line only
 * (the full error, stack included, goes to the debug log).
 */
export function reportError(err: unknown, json: boolean, logger?: Logger): void {
  if (json) writeJson(errorJson(err));
  if (isTokenmeterError(err)) {
    process.stderr.write(`error: ${err.message}\n`);
    return;
  }
  logger?.debug({ err }, 'command failed');
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message.split('\n')[0] ?? 'unknown error'}\n`);
}

/** `cli:<os user>`, the actor recorded for operator commands unless --actor names one. */
export function defaultActor(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER ?? process.env.USERNAME;
  }
  return `cli:${name || 'unknown'}`;
}

/** A figure with its unit: "1 token", "5 tokens". */
export function tokens(n: number): string {
  return `${n} ${n === 1 || n === -1 ? 'token' : 'tokens'}`;
}
