import { randomBytes } from 'node:crypto';
import { requireAccountId } from '../core/account-id.ts';
import type { Clock } from '../core/clock.ts';
import type { ServiceStore } from '../store/service-store.ts';
import { type OperatorClaims, signOperatorSession, verifyOperatorSession } from './operator-session.ts';
import { type SessionClaims, signSession, verifySession } from './session-token.ts';

export const DEFAULT_SESSION_TTL_MS = 15 * 60 * 1000;
/** A demo operator session lasts this long; signing in again is one click. */
export const OPERATOR_SESSION_TTL_MS = 30 * 60 * 1000;
const SECRET_SETTING = 'session_secret';

/**
 * Short-lived user tokens for browsers, each scoped to one account. The signing secret is
 * TOKENMETER_SESSION_SECRET when set, else generated once and kept in the database, so every
 * process of a deployment signs and verifies alike.
 */
export class SessionService {
  private readonly store: ServiceStore;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly configured: string | undefined;
  private secret: string | undefined;

  constructor(options: { store: ServiceStore; clock: Clock; secret?: string | undefined; ttlMs?: number }) {
    this.store = options.store;
    this.clock = options.clock;
    this.configured = options.secret;
    this.ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  private async signingSecret(): Promise<string> {
    if (this.secret) return this.secret;
    this.secret =
      this.configured && this.configured.length > 0
        ? this.configured
        : await this.store.settingOrInit(SECRET_SETTING, randomBytes(32).toString('base64url'));
    return this.secret;
  }

  /** Issues a token for one account, valid for the TTL or until `expiresAt` when given. */
  async issue(accountId: string, expiresAt?: number): Promise<{ token: string; expiresAt: number }> {
    const account = requireAccountId(accountId);
    const until = expiresAt ?? this.clock.now() + this.ttlMs;
    const { token } = signSession({ account, expiresAt: until }, await this.signingSecret());
    return { token, expiresAt: until };
  }

  /**
   * The claims of a genuine, unexpired token that `/session/start` has not spent, or null.
   * Spent tokens are looked up in the store, so every process refuses them at once.
   */
  async verify(token: string): Promise<SessionClaims | null> {
    const claims = verifySession(token, await this.signingSecret(), this.clock.now());
    if (!claims) return null;
    return (await this.store.nonceUsed(claims.nonce)) ? null : claims;
  }

  /**
   * Spends a token, so a link that carries it works once and it is no bearer token afterwards.
   * The store's unique nonce decides between concurrent spenders: exactly one wins.
   */
  async consume(token: string): Promise<SessionClaims | null> {
    const claims = verifySession(token, await this.signingSecret(), this.clock.now());
    if (!claims) return null;
    return (await this.store.consumeNonce(claims.nonce, claims.expiresAt, this.clock.now())) ? claims : null;
  }

  /** A demo operator session (admin scope), valid for OPERATOR_SESSION_TTL_MS. */
  async issueOperator(): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = this.clock.now() + OPERATOR_SESSION_TTL_MS;
    const { token } = signOperatorSession(expiresAt, await this.signingSecret());
    return { token, expiresAt };
  }

  /** The claims of a genuine, unexpired operator session that was not signed out, or null. */
  async verifyOperator(token: string): Promise<OperatorClaims | null> {
    const claims = verifyOperatorSession(token, await this.signingSecret(), this.clock.now());
    if (!claims) return null;
    return (await this.store.nonceUsed(claims.nonce)) ? null : claims;
  }

  /** Signs an operator session out: its nonce is spent, so every process refuses it from now on. */
  async revokeOperator(token: string): Promise<void> {
    const claims = verifyOperatorSession(token, await this.signingSecret(), this.clock.now());
    if (claims) await this.store.consumeNonce(claims.nonce, claims.expiresAt, this.clock.now());
  }
}
