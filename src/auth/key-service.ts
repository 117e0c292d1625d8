import { timingSafeEqual } from 'node:crypto';
import { TokenmeterError } from '../core/errors.ts';
import type { ApiKeyRecord, KeyScope, ServiceStore } from '../store/service-store.ts';
import { generateApiKey, hashApiKey } from './api-key.ts';

/** Who a secret key says the caller is. */
export interface KeyPrincipal {
  kind: 'app' | 'admin';
  keyName: string;
}

/** Bootstrap keys from the environment (TOKENMETER_API_KEY, TOKENMETER_ADMIN_KEY). */
export interface BootstrapKeys {
  app?: string | undefined;
  admin?: string | undefined;
}

/** Secret API keys: created once and shown once, stored as a hash, revocable at once. */
export class KeyService {
  private readonly store: ServiceStore;
  /** The bootstrap keys' digests, computed once: a request hashes only the key it presents. */
  private readonly bootstrap: { digest: Buffer; principal: KeyPrincipal }[];

  constructor(options: { store: ServiceStore; bootstrap?: BootstrapKeys }) {
    this.store = options.store;
    const { admin, app } = options.bootstrap ?? {};
    this.bootstrap = [
      ...(admin
        ? [{ digest: digestOf(admin), principal: { kind: 'admin', keyName: 'TOKENMETER_ADMIN_KEY' } as const }]
        : []),
      ...(app ? [{ digest: digestOf(app), principal: { kind: 'app', keyName: 'TOKENMETER_API_KEY' } as const }] : []),
    ];
  }

  /** Creates a key; the returned `key` is never stored and cannot be shown again. */
  async create(name: string, scope: KeyScope, now: number): Promise<{ key: string; record: ApiKeyRecord }> {
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) {
      throw new TokenmeterError('invalid_request', 'name: must be 1 to 100 characters', 'name');
    }
    if (scope !== 'app' && scope !== 'admin') {
      throw new TokenmeterError('invalid_request', 'scope: must be app or admin', 'scope');
    }
    const fresh = generateApiKey(scope);
    const record = await this.store.insertApiKey({
      name: name.trim(),
      scope,
      hash: fresh.hash,
      prefix: fresh.prefix,
      createdAt: now,
    });
    return { key: fresh.key, record };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.listApiKeys();
  }

  /** Revokes by display prefix; effective for the next request. */
  async revoke(prefix: string, now: number): Promise<number> {
    if (typeof prefix !== 'string' || prefix.length < 8) {
      throw new TokenmeterError('invalid_request', 'prefix: give the key prefix shown by `keys list`', 'prefix');
    }
    return this.store.revokeApiKey(prefix, now);
  }

  /**
   * The principal a presented key stands for, or null. The key is hashed once: bootstrap keys
   * compare by digest in constant time, stored keys are looked up by it. The stored key is read
   * on every request (no cache), so a revocation, from any process, applies to the next one.
   */
  async authenticate(presented: string): Promise<KeyPrincipal | null> {
    if (presented.length < 16 || presented.length > 200) return null;
    const hex = hashApiKey(presented);
    if (this.bootstrap.length > 0) {
      const digest = Buffer.from(hex, 'hex');
      for (const b of this.bootstrap) if (timingSafeEqual(digest, b.digest)) return b.principal;
    }
    const record = await this.store.findApiKeyByHash(hex);
    if (!record || record.revokedAt !== null) return null;
    return { kind: record.scope, keyName: record.name };
  }
}

function digestOf(key: string): Buffer {
  return Buffer.from(hashApiKey(key), 'hex');
}
