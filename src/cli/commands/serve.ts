import type { Command } from 'commander';
import { parseIntStrict, requireInt } from '../../core/amounts.ts';
import { startServer } from '../../http/serve.ts';
import { createLogger } from '../../log/logger.ts';
import { EXIT_FAILURE, reportError } from '../run-command.ts';

/** `serve`: the HTTP service, until SIGTERM or SIGINT. */
export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API (migrations run on start; SIGTERM/SIGINT shut down gracefully)')
    .option('--port <n>', 'port (default $PORT or 3000)')
    .option('--host <host>', 'address to listen on (default $HOST or 127.0.0.1)')
    .option('--demo', 'demo mode: demo pages, /demo/login, the offline payment provider; loopback only')
    .option('--config <path>', 'config file (default: $TOKENMETER_CONFIG, else the built-in one)')
    .action(async (options: { port?: string; host?: string; demo?: boolean; config?: string }) => {
      const logger = createLogger({ background: true });
      try {
        // 0 lets the system pick a free port (the tests use it); Node's own range error would be cryptic.
        const field = options.port === undefined && process.env.PORT !== undefined ? 'PORT' : 'port';
        const port = requireInt(field, parseIntStrict(field, options.port ?? process.env.PORT ?? '3000'), 0, 65535);
        const server = await startServer({
          port,
          host: options.host ?? process.env.HOST ?? '127.0.0.1',
          demo: options.demo === true,
          env: process.env,
          logger,
          ...(options.config ? { configPath: options.config } : {}),
        });
        const stop = (signal: string) => {
          logger.info({ signal }, 'shutting down: finishing in-flight requests');
          server.close().then(
            () => logger.info('stopped'),
            (err: unknown) => {
              logger.error({ err }, 'shutdown failed');
              process.exitCode = EXIT_FAILURE;
            },
          );
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      } catch (err) {
        reportError(err, false, logger);
        process.exitCode = EXIT_FAILURE;
      }
    });
}
