import { invalid } from '../core/errors.ts';

type Env = Record<string, string | undefined>;

/** What the service is started with besides the database: keys and the session signing secret. */
export interface BootstrapSecrets {
  app: string | undefined;
  admin: string | undefined;
  sessionSecret: string | undefined;
}

// A presented key shorter than 16 or longer than 200 characters is never compared (KeyService),
// and a bearer credential is printable ASCII without spaces: a bootstrap key outside those
// bounds could never sign anyone in. An HMAC-SHA256 secret under 32 characters is guessable.
const KEY = { min: 16, max: 200 };
const SESSION_SECRET_MIN = 32;

/**
 * TOKENMETER_API_KEY, TOKENMETER_ADMIN_KEY and TOKENMETER_SESSION_SECRET, refused at start when
 * set but unusable, so a typo is not silently ignored. Unset or empty means not configured.
 * The messages never contain the value.
 */
export function bootstrapSecretsFromEnv(env: Env): BootstrapSecrets {
  return {
    app: key(env, 'TOKENMETER_API_KEY'),
    admin: key(env, 'TOKENMETER_ADMIN_KEY'),
    sessionSecret: sessionSecret(env),
  };
}

function key(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (value.length < KEY.min || value.length > KEY.max) {
    throw invalid(name, `must be at least ${KEY.min} characters and at most ${KEY.max} (got ${value.length})`);
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw invalid(name, 'must be printable ASCII without spaces (it is sent as a bearer token)');
  }
  return value;
}

function sessionSecret(env: Env): string | undefined {
  const value = env.TOKENMETER_SESSION_SECRET;
  if (value === undefined || value === '') return undefined;
  if (value.length < SESSION_SECRET_MIN) {
    throw invalid(
      'TOKENMETER_SESSION_SECRET',
      `must be at least ${SESSION_SECRET_MIN} characters (got ${value.length}); unset, one is generated and kept in the database`,
    );
  }
  return value;
}
