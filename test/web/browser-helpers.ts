import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.ts';
import { KeyService } from '../../src/auth/key-service.ts';
import { SessionService } from '../../src/auth/session-service.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { buildApp } from '../../src/http/build-app.ts';
import { DEFAULT_HTTP_OPTIONS } from '../../src/http/options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { paymentsFromEnv } from '../../src/payments/payments.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { catalog } from '../helpers/ledger.ts';
import { ADMIN_KEY, APP_KEY } from '../http/http-helpers.ts';

/** Debian's chromium (`.ci/run` installs it); no test tool downloads a browser. */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
export const ARTIFACTS = join(import.meta.dirname, '../../.artifacts/web');

/** Builds the web front end once for this test file, into a fresh folder (never a stale dist/web). */
export async function buildAssets(): Promise<{ root: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-web-'));
  const root = join(dir, 'web');
  await buildWeb(root);
  return { root, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Playwright gives every launch its own fresh, temporary profile (user data dir). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

export interface Service {
  url: string;
  ledger: TokenLedger;
  /** inject() with JSON; `as` picks the credentials (default: the app key). */
  call(options: InjectOptions & { as?: 'app' | 'admin' | { token: string } }): Promise<LightMyRequestResponse>;
  userToken(account: string): Promise<string>;
  close(): Promise<void>;
}

/** What a test may change of the service `startService` builds. */
export interface ServiceOptions {
  corsOrigins?: string[];
  /** Default: a manual clock at 2026-03-10T12:00:00Z. */
  clock?: ManualClock;
  /** TOKENMETER_WEBHOOK_ALLOW_PRIVATE. */
  allowPrivateWebhooks?: boolean;
  /**
   * `serve --demo` (the default) or plain `serve`; outside demo mode the offline test provider
   * stays on, as with TOKENMETER_TEST_PAYMENTS=true, so a checkout still works.
   */
  demo?: boolean;
  /** Wires more of what `serve` runs beside the app (a webhook dispatcher); its result is stopped on close. */
  beside?: (ledger: TokenLedger, store: SqliteStore) => { start(): void; stop(): Promise<void> };
}

/**
 * The service as `serve --demo` builds it (the offline test payment provider included), or as
 * plain `serve` with `demo: false`, over a fresh SQLite file, on a real loopback port, serving
 * the assets built for this run.
 */
export async function startService(webRoot: string, o: ServiceOptions = {}): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-web-svc-'));
  const store = new SqliteStore({ path: join(dir, 'tokens.db') });
  await store.migrate();
  const clock = o.clock ?? new ManualClock('2026-03-10T12:00:00Z');
  const ledger = new TokenLedger({ store, catalog, clock });
  const sessions = new SessionService({ store: store.service, clock });
  const beside = o.beside?.(ledger, store);
  const demo = o.demo ?? true;
  const app = await buildApp({
    ledger,
    keys: new KeyService({ store: store.service, bootstrap: { app: APP_KEY, admin: ADMIN_KEY } }),
    sessions,
    clock,
    logger: silentLogger,
    options: {
      ...DEFAULT_HTTP_OPTIONS,
      demo,
      corsOrigins: o.corsOrigins ?? [],
      webRoot,
      allowPrivateWebhooks: o.allowPrivateWebhooks === true,
    },
    payments: await paymentsFromEnv(demo ? {} : { TOKENMETER_TEST_PAYMENTS: 'true' }, ledger, demo),
  });
  beside?.start();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    ledger,
    call({ as = 'app', ...options }) {
      const headers: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
      const credential = as === 'app' ? APP_KEY : as === 'admin' ? ADMIN_KEY : as.token;
      headers.authorization = `Bearer ${credential}`;
      return app.inject({ ...options, headers });
    },
    async userToken(account) {
      return (await sessions.issue(account)).token;
    },
    async close() {
      await app.close();
      await beside?.stop();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PageWatch {
  errors: string[];
  foreign: string[];
}

/** Records console errors, uncaught exceptions and any request to an origin not in `origins`. */
export function watch(page: Page, origins: string[]): PageWatch {
  const w: PageWatch = { errors: [], foreign: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => w.errors.push(String(e)));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol === 'data:') return;
    if (!origins.includes(u.origin)) w.foreign.push(r.url());
  });
  return w;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Waits until the element's trimmed text is exactly `text` (polled in the page, no sleeps). */
export async function waitForText(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction(
    `document.querySelector(${JSON.stringify(selector)})?.textContent?.trim() === ${JSON.stringify(text)}`,
  );
}

/** Waits until every match of `selector` is disabled (true) or enabled (false); at least one must match. */
export async function waitForDisabled(page: Page, selector: string, disabled: boolean): Promise<void> {
  await page.waitForFunction(
    `(() => { const all = [...document.querySelectorAll(${JSON.stringify(selector)})];
      return all.length > 0 && all.every((b) => b.disabled === ${disabled}); })()`,
  );
}

const AXE = join(import.meta.dirname, '../../node_modules/axe-core/axe.min.js');

/** How bad an axe-core violation is, in axe's own words. */
export type AxeImpact = 'minor' | 'moderate' | 'serious' | 'critical';

/**
 * Runs axe-core on the page; returns its violations of the given impacts (by default the
 * serious and critical ones, the bar every page must pass), one line each.
 */
export async function axeViolations(
  page: Page,
  impacts: readonly AxeImpact[] = ['serious', 'critical'],
): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const found = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations.filter((v) => ${JSON.stringify(impacts)}.includes(v.impact))
      .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))`)) as string[];
  return found;
}

/** Presses Tab until the focused element matches `selector` (at most `max` times); fails otherwise. */
export async function tabTo(page: Page, selector: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) === true`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

/**
 * The checks every page of a browser test ends with: no serious or critical axe violation, no
 * horizontal overflow at `width`, a screenshot saved, no console errors but the `expected` ones
 * (a refused request the test caused logs one), and no request to another origin.
 */
export async function checkPage(
  page: Page,
  w: PageWatch,
  name: string,
  width: number,
  expected?: RegExp,
): Promise<void> {
  assert.deepEqual(await axeViolations(page), [], `axe: ${name}`);
  assert.ok(await page.evaluate(`document.documentElement.scrollWidth <= ${width}`), `${name} overflows`);
  await screenshot(page, name);
  assert.deepEqual(
    w.errors.filter((e) => !expected?.test(e)),
    [],
  );
  assert.deepEqual(w.foreign, []);
}
