import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { TokenMeterClient, type TokenMeterClientOptions } from '../../src/sdk/index.ts';
import { ADMIN_KEY, APP_KEY, type TestApp, testApp } from '../http/http-helpers.ts';

export { ADMIN_KEY, APP_KEY };

/**
 * The real service on a real port over a fresh SQLite file, with app and admin clients; in demo
 * mode, so the token gate has its simulated handlers.
 */
export interface LiveService {
  t: TestApp;
  url: string;
  app: TokenMeterClient;
  admin: TokenMeterClient;
  client(options?: Partial<TokenMeterClientOptions>): TokenMeterClient;
  close(): Promise<void>;
}

export function urlOf(address: string | AddressInfo | null): string {
  if (address === null || typeof address === 'string') throw new Error(`not listening on a TCP port: ${address}`);
  return `http://127.0.0.1:${address.port}`;
}

export async function listenFastify(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return urlOf(app.server.address());
}

export function listenNode(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(urlOf(server.address())));
  });
}

export function closeNode(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function liveService(): Promise<LiveService> {
  const t = await testApp({ demo: true });
  const url = await listenFastify(t.app);
  const client = (options: Partial<TokenMeterClientOptions> = {}) =>
    new TokenMeterClient({ baseUrl: url, apiKey: APP_KEY, retryDelayMs: 0, ...options });
  return {
    t,
    url,
    app: client(),
    admin: client({ apiKey: ADMIN_KEY }),
    client,
    close: () => t.close(),
  };
}

/** A fetch answer's JSON body, typed by the test that reads it. */
export async function jsonOf<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** The SDK's own idempotency keys: UUIDs of version 7. */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
