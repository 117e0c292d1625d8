import { z } from 'zod';
import { MAX_HOLD_TTL_SECONDS } from '../core/amounts.ts';
import { defaultConfig } from './default-config.ts';

/** Ids are used in URLs, CLI arguments and log lines, so they stay short and shell-safe. */
export const CONFIG_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

const configId = z.string().regex(CONFIG_ID_PATTERN, {
  error: 'must be 1-64 characters of a-z, 0-9, "_", ".", "-", starting with a letter or digit',
});
const displayName = z.string().min(1).max(100);
const tokenCount = z.int().min(0).max(1_000_000_000);
/** A lifetime in whole days, up to ten years. */
const expiryDays = z.int().min(1).max(3_650);
const currency = z.string().regex(/^[a-z]{3}$/, { error: 'must be three lowercase letters, like "usd"' });

const planSchema = z.strictObject({
  id: configId,
  name: displayName,
  monthly_allocation: tokenCount,
  rollover_cap: tokenCount,
  /** `balance.low` fires when available falls below this (default: 10% of the allocation, rounded up). */
  low_balance_threshold: tokenCount.optional(),
  /** Promotional tokens granted once when an account on this plan is provisioned. */
  signup_bonus: z
    .strictObject({ tokens: z.int().min(1).max(1_000_000_000), expires_in_days: expiryDays.optional() })
    .optional(),
});

/** A feature's handler for the service's token gate: an http(s) URL the service POSTs each run to. */
const handlerUrl = z
  .string()
  .max(2048)
  .refine((value) => /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
    error: 'must be an http:// or https:// URL',
  });

const featureSchema = z.strictObject({
  id: configId,
  name: displayName,
  cost: z.int().min(1).max(1_000_000),
  /** How long the gate's hold lives while the handler runs (default 120 s); work done later is still charged. */
  hold_ttl_seconds: z.int().min(1).max(MAX_HOLD_TTL_SECONDS).optional(),
  handler_url: handlerUrl.optional(),
});

const packageFields = {
  id: configId,
  name: displayName,
  tokens: z.int().min(1).max(1_000_000_000),
  price_cents: z.int().min(0).max(100_000_000),
  currency,
};

const packageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...packageFields, kind: z.literal('topup'), expires_in_days: expiryDays.optional() }),
  z.strictObject({ ...packageFields, kind: z.literal('plan'), plan: configId }),
]);

/**
 * The shape of the JSON file. Cross-references (unique ids, packages and
 * default_plan naming a configured plan) are checked by `validateConfigFile`,
 * because they need the built-in defaults for the sections a file leaves out.
 */
export const configFileSchema = z.strictObject({
  default_plan: configId.optional(),
  plans: z.array(planSchema).min(1).optional(),
  features: z.array(featureSchema).min(1).optional(),
  packages: z.array(packageSchema).optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
export type PlanConfig = z.infer<typeof planSchema>;
export type FeatureConfig = z.infer<typeof featureSchema>;
export type PackageConfig = z.infer<typeof packageSchema>;
/** A config file with every section present, as after the defaults are filled in. */
export type CompleteConfigFile = Required<ConfigFile>;

/** One thing wrong with a config file: where (JSON path) and what. */
export interface ConfigProblem {
  path: readonly (string | number)[];
  message: string;
}

export type ConfigValidation = { ok: true; config: CompleteConfigFile } | { ok: false; problems: ConfigProblem[] };

/** Validates parsed JSON against the schema and the cross-reference rules, filling in omitted sections. */
export function validateConfigFile(json: unknown): ConfigValidation {
  const parsed = configFileSchema.safeParse(json, { reportInput: true });
  // The rules run on the raw input even when the shape is wrong, so one pass reports every problem.
  const problems = inDocumentOrder([
    ...(parsed.success ? [] : parsed.error.issues.flatMap(describeIssue)),
    ...checkReferences(json),
  ]);
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const defaults = defaultConfig();
  const file = parsed.data;
  return {
    ok: true,
    config: {
      default_plan: file.default_plan ?? defaults.default_plan,
      plans: file.plans ?? defaults.plans,
      features: file.features ?? defaults.features,
      packages: file.packages ?? defaults.packages,
    },
  };
}

/** Renders a JSON path the way a reader would write it: `plans[1].rollover_cap`. */
export function formatConfigPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Orders problems by section, then by array entry, so a reader can fix the file top to bottom. */
function inDocumentOrder(problems: ConfigProblem[]): ConfigProblem[] {
  const sectionRank = new Map<string | number | undefined, number>(
    Object.keys(configFileSchema.shape).map((key, rank) => [key, rank]),
  );
  for (const problem of problems) {
    if (!sectionRank.has(problem.path[0])) sectionRank.set(problem.path[0], sectionRank.size);
  }
  const rank = (problem: ConfigProblem): [number, number] => {
    const index = problem.path[1];
    return [sectionRank.get(problem.path[0]) ?? 0, typeof index === 'number' ? index : -1];
  };
  // toSorted is stable, so problems within one entry keep the schema's field order.
  return problems.toSorted((a, b) => {
    const [sectionA, indexA] = rank(a);
    const [sectionB, indexB] = rank(b);
    return sectionA - sectionB || indexA - indexB;
  });
}

function checkReferences(json: unknown): ConfigProblem[] {
  if (!isRecord(json)) return [];
  const problems: ConfigProblem[] = [];
  for (const section of ['plans', 'features', 'packages'] as const) {
    const items = json[section];
    if (!Array.isArray(items)) continue;
    const firstIndex = new Map<string, number>();
    items.forEach((item: unknown, index) => {
      const id = validId(isRecord(item) ? item.id : undefined);
      if (id === undefined) return;
      const first = firstIndex.get(id);
      if (first === undefined) firstIndex.set(id, index);
      else problems.push({ path: [section, index, 'id'], message: `duplicate id "${id}" (also ${section}[${first}])` });
    });
  }

  const defaults = defaultConfig();
  const plansFromFile = json.plans !== undefined;
  let planIds: Set<string>;
  if (!plansFromFile) planIds = new Set(defaults.plans.map((plan) => plan.id));
  else if (Array.isArray(json.plans)) {
    planIds = new Set(json.plans.flatMap((plan: unknown) => validId(isRecord(plan) ? plan.id : undefined) ?? []));
  } else return problems;

  if (json.packages === undefined) {
    // A file that replaces the plans but keeps the built-in packages may orphan a plan package.
    for (const pkg of defaults.packages) {
      if (pkg.kind === 'plan' && !planIds.has(pkg.plan)) {
        problems.push({
          path: ['packages'],
          message: `the built-in package "${pkg.id}" is for plan "${pkg.plan}", which is not configured; define "packages" too`,
        });
      }
    }
  } else if (Array.isArray(json.packages)) {
    json.packages.forEach((pkg: unknown, index) => {
      if (!isRecord(pkg) || pkg.kind !== 'plan') return;
      const plan = validId(pkg.plan);
      if (plan !== undefined && !planIds.has(plan)) {
        problems.push({ path: ['packages', index, 'plan'], message: `plan "${plan}" is not configured` });
      }
    });
  }

  if (json.default_plan === undefined) {
    if (plansFromFile && !planIds.has(defaults.default_plan)) {
      problems.push({
        path: ['default_plan'],
        message: `missing, and the built-in default plan "${defaults.default_plan}" is not configured`,
      });
    }
  } else {
    const defaultPlan = validId(json.default_plan);
    if (defaultPlan !== undefined && !planIds.has(defaultPlan)) {
      problems.push({ path: ['default_plan'], message: `plan "${defaultPlan}" is not configured` });
    }
  }
  return problems;
}

/** Malformed ids are already reported by the schema, so the rules only look at well-formed ones. */
function validId(value: unknown): string | undefined {
  return typeof value === 'string' && CONFIG_ID_PATTERN.test(value) ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  const got = describeValue(issue.input);
  switch (issue.code) {
    case 'invalid_type': {
      if (!('input' in issue) || issue.input === undefined) return [{ path, message: 'required, but missing' }];
      // Non-finite numbers are reported with the input replaced by null, and the real value in `received`.
      const received = 'received' in issue && typeof issue.received === 'string' ? issue.received : got;
      return [{ path, message: `expected ${describeExpected(issue.expected, path)}, got ${received}` }];
    }
    case 'unrecognized_keys': {
      const topup = isRecord(issue.input) && issue.input.kind === 'topup';
      return issue.keys.map((key) => ({
        path: [...path, key],
        message:
          topup && key === 'plan' && path[0] === 'packages'
            ? 'not allowed on a "topup" package (only kind "plan" names a plan)'
            : 'unknown key',
      }));
    }
    case 'too_small':
      // Every integer field has tighter bounds than the safe-integer range, which would only repeat them.
      if (issue.origin === 'int') return [];
      if (issue.origin === 'array' || issue.origin === 'string') return [{ path, message: 'must not be empty' }];
      return [{ path, message: `must be at least ${issue.minimum}, got ${got}` }];
    case 'too_big':
      if (issue.origin === 'int') return [];
      if (issue.origin === 'string') {
        const length = typeof issue.input === 'string' ? issue.input.length : '?';
        return [{ path, message: `must be at most ${issue.maximum} characters, got ${length}` }];
      }
      return [{ path, message: `must be at most ${issue.maximum}, got ${got}` }];
    case 'invalid_format':
      return [{ path, message: `${issue.message}, got ${got}` }];
    case 'invalid_union': {
      // A discriminator value matching no option is the only union failure a config can cause.
      if (issue.discriminator !== undefined && 'options' in issue && issue.options !== undefined) {
        const expected = issue.options.map((option) => JSON.stringify(option)).join(' or ');
        const kind = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
        const message =
          kind === undefined ? `required (${expected})` : `expected ${expected}, got ${describeValue(kind)}`;
        return [{ path, message }];
      }
      return [{ path, message: issue.message }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

function describeExpected(expected: string, path: readonly (string | number)[]): string {
  if (path.length === 0 && expected === 'object') return 'a JSON object at the top level';
  switch (expected) {
    case 'int':
    case 'number':
      return 'an integer';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return 'a string';
    default:
      return expected;
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
