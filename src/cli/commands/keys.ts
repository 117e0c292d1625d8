import type { Command } from 'commander';
import { KeyService } from '../../auth/key-service.ts';
import { invalid } from '../../core/errors.ts';
import type { ApiKeyRecord } from '../../store/service-store.ts';
import { type CommonOptions, runWithLedger, withCommonOptions } from '../run-command.ts';

function keyJson(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    prefix: k.prefix,
    created_at: new Date(k.createdAt).toISOString(),
    revoked_at: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
  };
}

/** `keys create|list|revoke`: secret API keys for app backends and operators. */
export function addKeysCommand(program: Command): void {
  const keys = program.command('keys').description('manage secret API keys (only a SHA-256 hash is stored)');

  withCommonOptions(
    keys
      .command('create')
      .description('create a key and print it once; it cannot be shown again')
      .requiredOption('--name <name>', 'what the key is for (e.g. "billing backend")')
      .option('--scope <scope>', 'app (an app backend) or admin (operators)', 'app'),
  ).action((options: CommonOptions & { name: string; scope: string }) =>
    runWithLedger(options, async (ledger) => {
      if (options.scope !== 'app' && options.scope !== 'admin') throw invalid('scope', 'must be app or admin');
      const service = new KeyService({ store: ledger.store.service });
      const { key, record } = await service.create(options.name, options.scope, Date.now());
      return {
        json: { success: true, key, ...keyJson(record) },
        lines: [
          `Created ${record.scope} key "${record.name}" (${record.prefix}…). Store it now; it is not shown again:`,
          key,
        ],
      };
    }),
  );

  withCommonOptions(keys.command('list').description('list keys by prefix (never the keys themselves)')).action(
    (options: CommonOptions) =>
      runWithLedger(options, async (ledger) => {
        const list = await new KeyService({ store: ledger.store.service }).list();
        return {
          json: { success: true, keys: list.map(keyJson) },
          lines:
            list.length === 0
              ? ['No keys. Create one with: tokenmeter keys create --name NAME [--scope app|admin]']
              : list.map(
                  (k) =>
                    `${k.prefix}…  ${k.scope.padEnd(5)}  ${k.name}  created ${new Date(k.createdAt).toISOString()}` +
                    (k.revokedAt === null ? '' : `  REVOKED ${new Date(k.revokedAt).toISOString()}`),
                ),
        };
      }),
  );

  withCommonOptions(
    keys.command('revoke').description('revoke a key at once, by the prefix `keys list` shows').argument('<prefix>'),
  ).action((prefix: string, options: CommonOptions) =>
    runWithLedger(options, async (ledger) => {
      const revoked = await new KeyService({ store: ledger.store.service }).revoke(
        prefix.replace(/…$/, ''),
        Date.now(),
      );
      if (revoked === 0) throw invalid('prefix', `no active key has the prefix ${prefix}`);
      return { json: { success: true, revoked }, lines: [`Revoked ${revoked} key(s) with prefix ${prefix}`] };
    }),
  );
}
