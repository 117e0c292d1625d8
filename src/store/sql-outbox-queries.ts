import { randomUUID } from 'node:crypto';
import { type EventType, isEventType, type TokenmeterEvent } from '../core/event.ts';
import type {
  ClaimedDelivery,
  DeliveryOutcome,
  DeliveryRow,
  DeliveryStatus,
  NewWebhookEndpoint,
  OutboxStore,
  StoredEvent,
  WebhookEndpoint,
} from './outbox-store.ts';
import { int, intOrNull, type Row, str, strOrNull } from './rows.ts';
import type { ServiceSql } from './sql-service-queries.ts';

const ENDPOINT_COLUMNS = 'id, url, events, description, created_at';

/** The outbox's service-side statements, written once for both backends (see OutboxStore). */
export class SqlOutboxQueries implements OutboxStore {
  protected readonly sql: ServiceSql;

  constructor(sql: ServiceSql) {
    this.sql = sql;
  }

  async setLowBalanceThreshold(account: string, threshold: number | null): Promise<boolean> {
    // The version moves, so a batch decided on the old figures re-runs.
    const [rows] = await this.sql.write([
      {
        sql: 'UPDATE accounts SET low_balance_threshold = ?, version = version + 1 WHERE id = ? RETURNING id',
        params: [threshold, account],
      },
    ]);
    return (rows?.length ?? 0) > 0;
  }

  async listEvents(q: { after: number; limit: number; account: string | null }): Promise<StoredEvent[]> {
    const d = this.sql.dialect;
    const rows = await this.sql.read(
      `SELECT position, id, type, at, account_id, sequence, data FROM events
       WHERE position > ? AND ${d.settledEvent} ${q.account === null ? '' : 'AND account_id = ?'}
       ORDER BY position LIMIT ?`,
      q.account === null ? [q.after, q.limit] : [q.after, q.account, q.limit],
    );
    return rows.map((r) => ({ ...toEvent(r), position: int(r, 'position') }));
  }

  async accountEvents(account: string, q: { before: number | null; limit: number }): Promise<StoredEvent[]> {
    const rows = await this.sql.read(
      `SELECT position, id, type, at, account_id, sequence, data FROM events
       WHERE account_id = ? ${q.before === null ? '' : 'AND position < ?'} ORDER BY position DESC LIMIT ?`,
      q.before === null ? [account, q.limit] : [account, q.before, q.limit],
    );
    return rows.map((r) => ({ ...toEvent(r), position: int(r, 'position') }));
  }

  async createWebhook(e: NewWebhookEndpoint): Promise<void> {
    await this.sql.write([
      {
        sql: 'INSERT INTO webhook_endpoints (id, url, events, description, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        params: [
          e.id,
          e.url,
          e.events === null ? null : JSON.stringify(e.events),
          e.description,
          e.secret,
          e.createdAt,
        ],
      },
    ]);
  }

  async listWebhooks(): Promise<WebhookEndpoint[]> {
    const rows = await this.sql.read(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at, id`,
      [],
    );
    return rows.map(toEndpoint);
  }

  async getWebhook(id: string): Promise<WebhookEndpoint | undefined> {
    const [row] = await this.sql.read(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ? AND deleted_at IS NULL`,
      [id],
    );
    return row ? toEndpoint(row) : undefined;
  }

  async removeWebhook(id: string, now: number): Promise<boolean> {
    const [removed] = await this.sql.write([
      {
        sql: 'UPDATE webhook_endpoints SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL RETURNING id',
        params: [now, id],
      },
      {
        sql: `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, claim = NULL,
              error = 'endpoint removed' WHERE endpoint_id = ? AND status = 'pending'`,
        params: [id],
      },
    ]);
    return (removed?.length ?? 0) > 0;
  }

  async rotateWebhookSecret(id: string, secret: string): Promise<boolean> {
    const [rows] = await this.sql.write([
      {
        sql: 'UPDATE webhook_endpoints SET secret = ? WHERE id = ? AND deleted_at IS NULL RETURNING id',
        params: [secret, id],
      },
    ]);
    return (rows?.length ?? 0) > 0;
  }

  async listDeliveries(endpointId: string, limit: number): Promise<DeliveryRow[]> {
    const rows = await this.sql.read(
      `SELECT dl.*, e.type FROM webhook_deliveries dl JOIN events e ON e.id = dl.event_id
       WHERE dl.endpoint_id = ? ORDER BY dl.id DESC LIMIT ?`,
      [endpointId, limit],
    );
    return rows.map(toDelivery);
  }

  async retryDelivery(endpointId: string, deliveryId: number, now: number): Promise<boolean> {
    const [rows] = await this.sql.write([
      {
        sql: `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, claim = NULL
              WHERE id = ? AND endpoint_id = ? AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE deleted_at IS NULL)
              RETURNING id`,
        params: [now, deliveryId, endpointId],
      },
    ]);
    return (rows?.length ?? 0) > 0;
  }

  async claimDeliveries(
    now: number,
    leaseUntil: number,
    limit: number,
    skip: readonly string[],
  ): Promise<ClaimedDelivery[]> {
    const d = this.sql.dialect;
    const claim = randomUUID();
    const skipped = d.jsonRows([['endpoint_id', 'text']]);
    const [claimed] = await this.sql.write([
      {
        sql: `UPDATE webhook_deliveries SET claim = ?, next_attempt_at = ?
              WHERE id IN (SELECT id FROM webhook_deliveries
                           WHERE status = 'pending' AND next_attempt_at <= ?
                             AND endpoint_id NOT IN (SELECT endpoint_id FROM ${skipped} AS s)
                           ORDER BY next_attempt_at, id LIMIT ? ${d.skipLocked})
              RETURNING id`,
        params: [claim, leaseUntil, now, JSON.stringify(skip.map((id) => [id])), limit],
      },
    ]);
    const ids = (claimed ?? []).map((r) => int(r, 'id'));
    if (ids.length === 0) return [];
    const rows = await this.sql.read(
      `SELECT dl.id AS delivery_id, dl.endpoint_id, dl.attempts, w.url, w.secret, e.id, e.type, e.at, e.account_id,
              e.sequence, e.data, e.created_at AS recorded_at
       FROM webhook_deliveries dl JOIN events e ON e.id = dl.event_id JOIN webhook_endpoints w ON w.id = dl.endpoint_id
       WHERE dl.claim = ? ORDER BY dl.id`,
      [claim],
    );
    return rows.map((r) => ({
      id: int(r, 'delivery_id'),
      endpointId: str(r, 'endpoint_id'),
      claim,
      attempts: int(r, 'attempts'),
      url: str(r, 'url'),
      secret: str(r, 'secret'),
      event: toEvent(r),
      recordedAt: int(r, 'recorded_at'),
    }));
  }

  async releaseDeliveries(claimed: readonly { id: number; claim: string }[], dueAt: number): Promise<void> {
    if (claimed.length === 0) return;
    const rows = this.sql.dialect.jsonRows([
      ['id', 'bigint'],
      ['claim', 'text'],
    ]);
    await this.sql.write([
      {
        sql: `UPDATE webhook_deliveries SET claim = NULL, next_attempt_at = ?
              FROM ${rows} AS r WHERE webhook_deliveries.id = r.id AND webhook_deliveries.claim = r.claim`,
        params: [dueAt, JSON.stringify(claimed.map((c) => [c.id, c.claim]))],
      },
    ]);
  }

  async finishDeliveries(outcomes: readonly { id: number; claim: string; outcome: DeliveryOutcome }[]): Promise<void> {
    if (outcomes.length === 0) return;
    const rows = this.sql.dialect.jsonRows([
      ['id', 'bigint'],
      ['claim', 'text'],
      ['status', 'text'],
      ['response_status', 'bigint'],
      ['error', 'text'],
      ['next_attempt_at', 'bigint'],
      ['delivered_at', 'bigint'],
    ]);
    await this.sql.write([
      {
        sql: `UPDATE webhook_deliveries SET status = o.status, attempts = attempts + 1,
              response_status = o.response_status, error = o.error, next_attempt_at = o.next_attempt_at,
              delivered_at = o.delivered_at, claim = NULL
              FROM ${rows} AS o
              WHERE webhook_deliveries.id = o.id AND webhook_deliveries.claim = o.claim`,
        params: [
          JSON.stringify(
            outcomes.map(({ id, claim, outcome: o }) => [
              id,
              claim,
              o.status,
              o.responseStatus,
              o.error,
              o.nextAttemptAt,
              o.deliveredAt,
            ]),
          ),
        ],
      },
    ]);
  }

  async nextDeliveryAt(): Promise<number | null> {
    const [row] = await this.sql.read(
      "SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'",
      [],
    );
    return row ? intOrNull(row, 'at') : null;
  }

  async dueAccounts(from: number, until: number, limit: number): Promise<string[]> {
    const rows = await this.sql.read(DUE_ACCOUNTS, [from, until, until, until, limit]);
    return rows.map((r) => str(r, 'account_id'));
  }

  async expiringGrantAccounts(from: number, until: number, limit: number): Promise<string[]> {
    const rows = await this.sql.read(EXPIRING_ACCOUNTS, [from, until, limit]);
    return rows.map((r) => str(r, 'account_id'));
  }

  async nextExpiryAfter(after: number): Promise<number | null> {
    const [row] = await this.sql.read(NEXT_EXPIRY, [after, after, after]);
    return row ? intOrNull(row, 'at') : null;
  }
}

// Time-driven work: ranges of `grants.expires_at` (indexed) from a recent point, never the whole
// history of expired grants; scheduled grants and active holds through their partial indexes.
const DUE_ACCOUNTS = `SELECT account_id FROM grants
WHERE expires_at > ? AND expires_at <= ? AND status IN ('active', 'scheduled')
UNION
SELECT account_id FROM grants WHERE status = 'scheduled' AND effective_at <= ?
UNION
SELECT account_id FROM holds WHERE status = 'active' AND expires_at <= ?
LIMIT ?`;

const EXPIRING_ACCOUNTS = `SELECT DISTINCT account_id FROM grants g
WHERE g.expires_at > ? AND g.expires_at <= ? AND g.status = 'active' AND g.remaining > 0 AND g.category <> 'included'
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.dedupe_key = 'grant.expiring:' || g.id)
LIMIT ?`;

const NEXT_EXPIRY = `SELECT min(at) AS at FROM (
  SELECT min(expires_at) AS at FROM grants WHERE expires_at > ? AND status IN ('active', 'scheduled')
  UNION ALL
  SELECT min(effective_at) AS at FROM grants WHERE status = 'scheduled' AND effective_at > ?
  UNION ALL
  SELECT min(expires_at) AS at FROM holds WHERE status = 'active' AND expires_at > ?
) AS next`;

function toEvent(r: Row): TokenmeterEvent {
  const type = str(r, 'type');
  if (!isEventType(type)) throw new TypeError(`events.type: unknown type ${type}`);
  return {
    id: str(r, 'id'),
    type,
    timestamp: new Date(int(r, 'at')).toISOString(),
    account: str(r, 'account_id'),
    sequence: int(r, 'sequence'),
    data: JSON.parse(str(r, 'data')),
  };
}

function toEndpoint(r: Row): WebhookEndpoint {
  const events = strOrNull(r, 'events');
  return {
    id: str(r, 'id'),
    url: str(r, 'url'),
    events: events === null ? null : (JSON.parse(events) as EventType[]),
    description: strOrNull(r, 'description'),
    createdAt: int(r, 'created_at'),
  };
}

function toDelivery(r: Row): DeliveryRow {
  return {
    id: int(r, 'id'),
    endpointId: str(r, 'endpoint_id'),
    eventId: str(r, 'event_id'),
    type: str(r, 'type'),
    status: str(r, 'status') as DeliveryStatus,
    attempts: int(r, 'attempts'),
    responseStatus: intOrNull(r, 'response_status'),
    nextAttemptAt: intOrNull(r, 'next_attempt_at'),
    deliveredAt: intOrNull(r, 'delivered_at'),
    error: strOrNull(r, 'error'),
    createdAt: int(r, 'created_at'),
  };
}
