import { TokenmeterError } from '../core/errors.ts';
import type { ApiKeyRecord, KeyScope, ServiceStore } from '../store/service-store.ts';
import { generateApiKey, hashApiKey, sameSecret } from './api-key.ts';

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
  private readonly bootstrap: BootstrapKeys;

  constructor(options: { store: ServiceStore; bootstrap?: BootstrapKeys }) {
    this.store = options.store;
    this.bootstrap = options.bootstrap ?? {};
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

  /** The principal a presented key stands for, or null. Lookups are by hash; bootstrap keys compare in constant time. */
  async authenticate(presented: string): Promise<KeyPrincipal | null> {
    if (presented.length < 16 || presented.length > 200) return null;
    if (this.bootstrap.admin && sameSecret(presented, this.bootstrap.admin)) {
      return { kind: 'admin', keyName: 'TOKENMETER_ADMIN_KEY' };
    }
    if (this.bootstrap.app && sameSecret(presented, this.bootstrap.app)) {
      return { kind: 'app', keyName: 'TOKENMETER_API_KEY' };
    }
    const record = await this.store.findApiKeyByHash(hashApiKey(presented));
    if (!record || record.revokedAt !== null) return null;
    return { kind: record.scope, keyName: record.name };
  }
}
