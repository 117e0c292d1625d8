import type { Command } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { systemClock } from '../../core/clock.ts';
import { deliveryJson, webhookJson } from '../../events/events-wire.ts';
import { webhookSettingsFromEnv } from '../../events/webhook-env.ts';
import { Webhooks } from '../../events/webhooks.ts';
import type { TokenLedger } from '../../ledger/token-ledger.ts';
import type { DeliveryRow, WebhookEndpoint } from '../../store/outbox-store.ts';
import { type CommandResult, type CommonOptions, runWithLedger, withCommonOptions } from '../run-command.ts';

/** The facade over the ledger's store, as the service builds it (private addresses by the same env switch). */
export function webhooksOf(ledger: TokenLedger): Webhooks {
  return new Webhooks({
    outbox: ledger.store.service,
    clock: systemClock,
    allowPrivate: webhookSettingsFromEnv(process.env).allowPrivate,
  });
}

function withWebhooks(options: CommonOptions, fn: (webhooks: Webhooks) => Promise<CommandResult>): Promise<void> {
  return runWithLedger(options, (ledger) => fn(webhooksOf(ledger)));
}

interface AddOptions extends CommonOptions {
  url: string;
  events?: string;
  description?: string;
}

/** `webhooks add|list|remove|deliveries|retry|rotate-secret`: the endpoints events are sent to. */
export function addWebhooksCommand(program: Command): void {
  const webhooks = program.command('webhooks').description('manage webhook endpoints and their deliveries');

  withCommonOptions(
    webhooks
      .command('add')
      .description('add an endpoint and print its signing secret once; it cannot be shown again')
      .requiredOption(
        '--url <url>',
        'http:// or https:// URL (private addresses need TOKENMETER_WEBHOOK_ALLOW_PRIVATE=true)',
      )
      .option('--events <types>', 'comma-separated event types to send (default: every type)')
      .option('--description <text>', 'what the endpoint is for'),
  ).action((options: AddOptions) =>
    withWebhooks(options, async (w) => {
      const events = options.events === undefined ? undefined : options.events.split(',').map((t) => t.trim());
      const { endpoint, secret } = await w.add({
        url: options.url,
        ...(events === undefined ? {} : { events }),
        ...(options.description === undefined ? {} : { description: options.description }),
      });
      return {
        json: { success: true, webhook: { ...webhookJson(endpoint), secret } },
        lines: [
          `Added webhook ${endpoint.id} → ${endpoint.url} (${typesText(endpoint)}).`,
          'Signing secret (store it now; it is not shown again):',
          secret,
        ],
      };
    }),
  );

  withCommonOptions(webhooks.command('list').description('the endpoints, oldest first (never their secrets)')).action(
    (options: CommonOptions) =>
      withWebhooks(options, async (w) => {
        const list = await w.list();
        return {
          json: { success: true, webhooks: list.map(webhookJson) },
          lines:
            list.length === 0
              ? ['No webhooks. Add one with: tokenmeter webhooks add --url URL']
              : list.map(endpointLine),
        };
      }),
  );

  withCommonOptions(
    webhooks.command('remove').description('remove an endpoint; its pending deliveries fail').argument('<id>'),
  ).action((id: string, options: CommonOptions) =>
    withWebhooks(options, async (w) => {
      await w.remove(id);
      return { json: { success: true }, lines: [`Removed webhook ${id}`] };
    }),
  );

  withCommonOptions(
    webhooks
      .command('rotate-secret')
      .description('give an endpoint a new signing secret and print it once; the old one stops at once')
      .argument('<id>'),
  ).action((id: string, options: CommonOptions) =>
    withWebhooks(options, async (w) => {
      const secret = await w.rotateSecret(id);
      return { json: { success: true, secret }, lines: [`New signing secret of ${id} (store it now):`, secret] };
    }),
  );

  withCommonOptions(
    webhooks
      .command('deliveries')
      .description("an endpoint's deliveries, newest first")
      .argument('<id>')
      .option('--limit <n>', 'how many, 1 to 500 (default 50)'),
  ).action((id: string, options: CommonOptions & { limit?: string }) =>
    withWebhooks(options, async (w) => {
      const rows = await w.deliveries(id, options.limit === undefined ? 50 : parseIntStrict('limit', options.limit));
      return {
        json: { success: true, deliveries: rows.map(deliveryJson) },
        lines: rows.length === 0 ? [`Webhook ${id}: no deliveries`] : rows.map(deliveryLine),
      };
    }),
  );

  withCommonOptions(
    webhooks
      .command('retry')
      .description('send a delivery again now, whatever its status')
      .argument('<id>')
      .argument('<delivery_id>'),
  ).action((id: string, deliveryId: string, options: CommonOptions) =>
    withWebhooks(options, async (w) => {
      await w.retry(id, parseIntStrict('delivery_id', deliveryId));
      return { json: { success: true }, lines: [`Delivery ${deliveryId} of ${id} is due now`] };
    }),
  );
}

function typesText(e: WebhookEndpoint): string {
  return e.events === null ? 'every event type' : e.events.join(', ');
}

function endpointLine(e: WebhookEndpoint): string {
  const parts = [e.id, e.url, typesText(e), `created ${new Date(e.createdAt).toISOString()}`];
  if (e.description !== null) parts.push(`"${e.description}"`);
  return parts.join('  ');
}

function deliveryLine(d: DeliveryRow): string {
  const parts = [`#${d.id}`, d.type, d.eventId, d.status, `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`];
  if (d.responseStatus !== null) parts.push(`HTTP ${d.responseStatus}`);
  if (d.deliveredAt !== null) parts.push(`delivered ${new Date(d.deliveredAt).toISOString()}`);
  if (d.nextAttemptAt !== null) parts.push(`next ${new Date(d.nextAttemptAt).toISOString()}`);
  if (d.error !== null) parts.push(`error: ${d.error}`);
  return parts.join('  ');
}
