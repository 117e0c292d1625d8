import { readFile } from 'node:fs/promises';
import type { Catalog, Feature, Plan, TokenPackage } from '../core/catalog.ts';
import { TokenmeterError } from '../core/errors.ts';
import { type ConfigProblem, formatConfigPath, validateConfigFile } from './config-schema.ts';
import { BUILT_IN_CONFIG_SOURCE, DEFAULT_GATE_HOLD_TTL_SECONDS, defaultConfig } from './default-config.ts';

/** The environment variable naming the config file when no path is passed. */
export const CONFIG_ENV_VAR = 'TOKENMETER_CONFIG';

export interface LoadConfigOptions {
  /** A config file path; wins over the environment. */
  path?: string;
  /** Where `TOKENMETER_CONFIG` is looked up; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

export interface LoadedConfig {
  catalog: Catalog;
  /** The file path the catalog came from, or `built-in default`. */
  source: string;
}

/** Validates parsed JSON and converts it to a Catalog, throwing `config_invalid` listing every problem. */
export function parseConfig(json: unknown, source: string): Catalog {
  const result = validateConfigFile(json);
  if (!result.ok) throw configInvalid(source, result.problems.map(formatProblem));
  const config = result.config;
  const plans = new Map<string, Plan>();
  for (const plan of config.plans) {
    plans.set(plan.id, {
      id: plan.id,
      name: plan.name,
      monthlyAllocation: plan.monthly_allocation,
      rolloverCap: plan.rollover_cap,
      ...(plan.low_balance_threshold === undefined ? {} : { lowBalanceThreshold: plan.low_balance_threshold }),
      ...(plan.signup_bonus
        ? {
            signupBonus: { tokens: plan.signup_bonus.tokens, expiresInDays: plan.signup_bonus.expires_in_days ?? null },
          }
        : {}),
    });
  }
  const features = new Map<string, Feature>();
  for (const feature of config.features) {
    features.set(feature.id, {
      id: feature.id,
      name: feature.name,
      cost: feature.cost,
      holdTtlSeconds: feature.hold_ttl_seconds ?? DEFAULT_GATE_HOLD_TTL_SECONDS,
      handlerUrl: feature.handler_url ?? null,
    });
  }
  const packages = new Map<string, TokenPackage>();
  for (const pkg of config.packages) {
    packages.set(pkg.id, {
      id: pkg.id,
      name: pkg.name,
      tokens: pkg.tokens,
      priceCents: pkg.price_cents,
      currency: pkg.currency,
      kind: pkg.kind,
      plan: pkg.kind === 'plan' ? pkg.plan : null,
      ...(pkg.kind === 'topup' && pkg.expires_in_days ? { expiresInDays: pkg.expires_in_days } : {}),
    });
  }
  return { plans, features, packages, defaultPlan: config.default_plan };
}

/** Loads the catalog from `options.path`, else `$TOKENMETER_CONFIG`, else the built-in default. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  // An empty variable is how shells and compose files usually "unset" a value, so it means no file.
  const path = options.path ?? (env[CONFIG_ENV_VAR] || undefined);
  if (path === undefined) {
    return { catalog: parseConfig(defaultConfig(), BUILT_IN_CONFIG_SOURCE), source: BUILT_IN_CONFIG_SOURCE };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw configInvalid(path, [`cannot read the file: ${errorMessage(err)}`]);
  }
  let json: unknown;
  try {
    // Editors on Windows often save JSON with a byte-order mark, which JSON.parse rejects.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw configInvalid(path, [`not valid JSON: ${errorMessage(err)}`]);
  }
  return { catalog: parseConfig(json, path), source: path };
}

/** Throws `config_invalid` naming every plan or feature id still in use that the catalog no longer configures. */
export function checkConfigCovers(
  catalog: Catalog,
  inUse: { plans: string[]; features: string[] },
  source: string,
): void {
  const lines: string[] = [];
  for (const id of new Set(inUse.plans)) {
    if (!catalog.plans.has(id)) {
      lines.push(`plan ${JSON.stringify(id)} is used by accounts or the ledger but is not configured`);
    }
  }
  for (const id of new Set(inUse.features)) {
    if (!catalog.features.has(id)) {
      lines.push(`feature ${JSON.stringify(id)} is used by the ledger but is not configured`);
    }
  }
  if (lines.length > 0) throw configInvalid(source, lines);
}

function formatProblem(problem: ConfigProblem): string {
  const where = formatConfigPath(problem.path);
  return where === '' ? problem.message : `${where}: ${problem.message}`;
}

function configInvalid(source: string, lines: readonly string[]): TokenmeterError {
  const [only] = lines;
  if (lines.length === 1 && only !== undefined) {
    return new TokenmeterError('config_invalid', `Invalid config ${source}: ${only}`);
  }
  const list = lines.map((line) => `  - ${line}`).join('\n');
  return new TokenmeterError('config_invalid', `Invalid config ${source}: ${lines.length} problems:\n${list}`);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
