/**
 * The embeddable widget, framework-free: `data-tokenmeter-balance` elements show the available
 * balance, `data-tokenmeter-feature="<id>"` buttons are enabled only when the feature is
 * affordable, features are not disabled, and the app's own condition holds. It dispatches
 * `tokenmeter:balance` (detail: the balance answer) and `tokenmeter:blocked` (detail:
 * `{feature, reason, message}`) on `document`.
 *
 * @example
 * TokenMeter.init({ baseUrl: 'https://tokens.example.com', token, refreshToken: () => fetchTokenFromMyBackend() });
 */
export interface WidgetBalance {
  account: string;
  balance: number;
  available: number;
  features_disabled: boolean;
  features: Record<string, { name: string; cost: number; allowed: boolean }>;
}

/** A fresh user token, or the `/api/sessions` answer (`{token, expires_at}`) that carries one. */
export type FreshToken = string | { token: string; expires_at?: string };

export interface WidgetOptions {
  /** Where tokenmeter runs, e.g. `https://tokens.example.com` (that origin must list yours in TOKENMETER_CORS_ORIGINS). */
  baseUrl: string;
  /** A user token from your backend (`POST /api/sessions`). */
  token: string;
  /** Fetches a fresh token from your backend; called before the current one expires and after a 401. */
  refreshToken?: () => Promise<FreshToken>;
  /** The app's own prerequisite for a feature (a connected CRM, a selected contact...). */
  condition?: (feature: string) => boolean;
  /** Balance refresh interval, ms (default 30 s). */
  intervalMs?: number;
  /** Token refresh interval when the token's expiry is unknown, ms (default 10 min; user tokens live 15). */
  refreshEveryMs?: number;
  /** The root to scan for elements (default `document`). */
  root?: ParentNode;
}

export type BlockReason = 'insufficient_tokens' | 'features_disabled' | 'condition' | 'unavailable';

export interface RunResult {
  ok: boolean;
  status: number;
  body: Record<string, unknown>;
}

export interface TokenMeterWidget {
  /** The last balance read, or null before the first answer / when it cannot be read. */
  readonly balance: WidgetBalance | null;
  refresh(): Promise<WidgetBalance | null>;
  /** Re-applies the enabled state, e.g. after the app's condition changed. */
  update(): void;
  /** Runs a feature through tokenmeter's token gate with the user token; a 402 dispatches `tokenmeter:blocked`. */
  run(feature: string, input?: unknown): Promise<RunResult>;
  destroy(): void;
}

function expiryOf(fresh: FreshToken): number | null {
  if (typeof fresh === 'string' || !fresh.expires_at) return null;
  const ms = Date.parse(fresh.expires_at);
  return Number.isFinite(ms) ? ms : null;
}

export function init(options: WidgetOptions): TokenMeterWidget {
  const base = options.baseUrl.replace(/\/+$/, '');
  const root = options.root ?? document;
  let token = options.token;
  let current: WidgetBalance | null = null;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshing: Promise<void> | null = null;
  const blocked = new Map<string, BlockReason>();

  const emit = (name: string, detail: unknown) => document.dispatchEvent(new CustomEvent(name, { detail }));

  function scheduleTokenRefresh(expiresAt: number | null): void {
    if (!options.refreshToken) return;
    clearTimeout(refreshTimer);
    // A minute before expiry, or on a fixed period when the expiry is not known.
    const delay =
      expiresAt === null ? (options.refreshEveryMs ?? 600_000) : Math.max(5_000, expiresAt - Date.now() - 60_000);
    refreshTimer = setTimeout(() => void renewToken(), delay);
  }

  function renewToken(): Promise<void> {
    const fetchToken = options.refreshToken;
    if (!fetchToken) return Promise.resolve();
    refreshing ??= fetchToken()
      .then((fresh) => {
        token = typeof fresh === 'string' ? fresh : fresh.token;
        scheduleTokenRefresh(expiryOf(fresh));
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  async function call(path: string, init: RequestInit = {}, retried = false): Promise<Response> {
    const res = await fetch(`${base}${path}`, {
      ...init,
      credentials: 'omit',
      headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${token}` },
    });
    if (res.status === 401 && !retried && options.refreshToken) {
      await renewToken();
      return call(path, init, true);
    }
    return res;
  }

  function update(): void {
    const b = current;
    for (const node of root.querySelectorAll<HTMLElement>('[data-tokenmeter-balance]')) {
      node.textContent = b ? String(b.available) : 'unavailable';
    }
    for (const button of root.querySelectorAll<HTMLButtonElement>('[data-tokenmeter-feature]')) {
      const feature = button.dataset.tokenmeterFeature ?? '';
      const f = b?.features[feature];
      const reason: BlockReason | null = !b
        ? 'unavailable'
        : b.features_disabled
          ? 'features_disabled'
          : !f?.allowed
            ? 'insufficient_tokens'
            : options.condition && !options.condition(feature)
              ? 'condition'
              : null;
      button.disabled = reason !== null;
      if (reason !== null && blocked.get(feature) !== reason) {
        emit('tokenmeter:blocked', { feature, reason, balance: b?.available ?? null });
      }
      if (reason === null) blocked.delete(feature);
      else blocked.set(feature, reason);
    }
  }

  async function refresh(): Promise<WidgetBalance | null> {
    try {
      const res = await call('/api/tokens/balance');
      current = res.ok ? ((await res.json()) as WidgetBalance) : null;
    } catch {
      current = null;
    }
    update();
    if (current) emit('tokenmeter:balance', current);
    return current;
  }

  async function run(feature: string, input?: unknown): Promise<RunResult> {
    const res = await call(`/api/features/${encodeURIComponent(feature)}/run`, {
      method: 'POST',
      body: JSON.stringify(input === undefined ? {} : { input }),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status === 402) {
      emit('tokenmeter:blocked', {
        feature,
        reason: 'insufficient_tokens',
        message: body.error,
        balance: body.available,
      });
    }
    await refresh();
    return { ok: res.ok, status: res.status, body };
  }

  const onFocus = () => void refresh();
  window.addEventListener('focus', onFocus);
  const interval = setInterval(() => void refresh(), options.intervalMs ?? 30_000);
  scheduleTokenRefresh(null);
  void refresh();

  return {
    get balance() {
      return current;
    },
    refresh,
    update,
    run,
    destroy() {
      clearInterval(interval);
      clearTimeout(refreshTimer);
      window.removeEventListener('focus', onFocus);
    },
  };
}
