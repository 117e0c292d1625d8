import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { KeyService } from '../../src/auth/key-service.ts';
import { SessionService } from '../../src/auth/session-service.ts';
import type { Catalog } from '../../src/core/catalog.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { buildApp } from '../../src/http/build-app.ts';
import type { FeatureHandlers } from '../../src/http/feature-handlers.ts';
import { DEFAULT_HTTP_OPTIONS, type HttpOptions } from '../../src/http/options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { catalog } from '../helpers/ledger.ts';

export const APP_KEY = 'tm_app_test_bootstrap_key_0123456789abcdef';
export const ADMIN_KEY = 'tm_admin_test_bootstrap_key_0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  ledger: TokenLedger;
  keys: KeyService;
  sessions: SessionService;
  clock: ManualClock;
  dir: string;
  path: string;
  /** inject() with JSON; `as` picks the credentials. */
  call(options: InjectOptions & { as?: 'app' | 'admin' | { token: string } | 'none' }): Promise<LightMyRequestResponse>;
  userToken(account: string): Promise<string>;
  close(): Promise<void>;
}

/** A service over a fresh SQLite file, with bootstrap app and admin keys and a manual clock. */
export async function testApp(
  overrides: Partial<HttpOptions> = {},
  features?: FeatureHandlers,
  dir = mkdtempSync(join(tmpdir(), 'tm-http-')),
  config: Catalog = catalog,
): Promise<TestApp> {
  const path = join(dir, 'tokens.db');
  const store = new SqliteStore({ path });
  await store.migrate();
  const clock = new ManualClock('2026-03-10T12:00:00Z');
  const ledger = new TokenLedger({ store, catalog: config, clock });
  const keys = new KeyService({ store: store.service, bootstrap: { app: APP_KEY, admin: ADMIN_KEY } });
  const sessions = new SessionService({ store: store.service, clock });
  const app = await buildApp({
    ledger,
    keys,
    sessions,
    clock,
    logger: silentLogger,
    options: { ...DEFAULT_HTTP_OPTIONS, ...overrides },
    ...(features ? { features } : {}),
  });
  return {
    app,
    ledger,
    keys,
    sessions,
    clock,
    dir,
    path,
    call({ as = 'app', ...options }) {
      const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
      if (as === 'app') headers.authorization = `Bearer ${APP_KEY}`;
      else if (as === 'admin') headers.authorization = `Bearer ${ADMIN_KEY}`;
      else if (typeof as === 'object') headers.authorization = `Bearer ${as.token}`;
      return app.inject({ ...options, headers });
    },
    async userToken(account) {
      return (await sessions.issue(account)).token;
    },
    async close() {
      await app.close();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Who a call to `servedApp` speaks as: a bootstrap key, nobody, or a user token. */
export type CallAs = 'app' | 'admin' | 'none' | { token: string };

/** The test app listening on 127.0.0.1, called over a real socket, as `defaultAs` unless a call says otherwise. */
export async function servedApp(overrides: Partial<HttpOptions> = {}, defaultAs: CallAs = 'app') {
  const t = await testApp(overrides);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const call = async (method: string, path: string, options: { as?: CallAs; body?: unknown } = {}) => {
    const as = options.as ?? defaultAs;
    const headers: Record<string, string> = {};
    if (as === 'admin') headers.authorization = `Bearer ${ADMIN_KEY}`;
    else if (as === 'app') headers.authorization = `Bearer ${APP_KEY}`;
    else if (typeof as === 'object') headers.authorization = `Bearer ${as.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { t, call };
}
