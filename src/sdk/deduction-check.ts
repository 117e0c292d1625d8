import { textLength, textProblem } from '../core/well-formed-text.ts';
import { deduction, WELL_FORMED } from '../http/schemas.ts';
import { isObject } from './answer-error.ts';
import { TokenMeterApiError } from './errors.ts';

/** One field's rule, as the batch route's JSON Schema states it (`src/http/schemas.ts`). */
interface FieldRule {
  type: 'string' | 'integer';
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  [WELL_FORMED]?: boolean;
}

const FIELDS = Object.entries(deduction.properties) as [string, FieldRule][];
const REQUIRED: readonly string[] = deduction.required;

/**
 * Refuses a list of deductions the batch route would refuse, before anything is sent, with the
 * error the service gives (`400 invalid_request`, `deductions[i].field: ...`, `i` the item's
 * index in the whole list): the first malformed item, by the route's rules in the route's order
 * (its schema for every item first, then its own checks item by item). Only whether a feature
 * exists is left to the service. A key the SDK will generate (`idempotency_key` absent, null or
 * undefined) is not checked. What is checked is what would go on the wire (`JSON.stringify`:
 * undefined fields dropped, NaN as null); a value JSON cannot encode (a BigInt) throws its
 * TypeError.
 */
export function checkDeductions(items: readonly unknown[]): void {
  const wire = items.map(onTheWire);
  wire.forEach((item, i) => {
    const problem = schemaProblem(item);
    if (problem !== null) throw refusal(i, problem[0], problem[1]);
  });
  wire.forEach((item, i) => {
    // The route's own check beyond the schema (requireAccountId), before the catalog's.
    const account = isObject(item) ? item.account : undefined;
    if (typeof account === 'string' && account.trim() !== account) {
      throw refusal(i, '.account', 'must not start or end with white space');
    }
  });
}

/** The item as the service would parse it, without a key the SDK is yet to give. */
function onTheWire(item: unknown): unknown {
  const parsed: unknown = JSON.parse(JSON.stringify([item]))[0];
  if (isObject(parsed) && parsed.idempotency_key === null) delete parsed.idempotency_key;
  return parsed;
}

/** Where in the item and what, as Ajv reports its first error (`allErrors: false`). */
function schemaProblem(item: unknown): [where: string, message: string] | null {
  if (!isObject(item)) return ['', 'must be object'];
  for (const name of REQUIRED) {
    if (!Object.hasOwn(item, name)) return ['', `must have required property '${name}'`];
  }
  for (const name of Object.keys(item)) {
    if (!Object.hasOwn(deduction.properties, name)) return [`.${name}`, 'is not a known field'];
  }
  for (const [name, rule] of FIELDS) {
    if (!Object.hasOwn(item, name)) continue;
    const problem = fieldProblem(rule, item[name]);
    if (problem !== null) return [`.${name}`, problem];
  }
  return null;
}

function fieldProblem(rule: FieldRule, value: unknown): string | null {
  if (rule.type === 'integer') {
    if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be integer';
    if (rule.minimum !== undefined && value < rule.minimum) return `must be >= ${rule.minimum}`;
    if (rule.maximum !== undefined && value > rule.maximum) return `must be <= ${rule.maximum}`;
    return null;
  }
  if (typeof value !== 'string') return 'must be string';
  const length = textLength(value);
  if (rule.maxLength !== undefined && length > rule.maxLength) {
    return `must NOT have more than ${rule.maxLength} characters`;
  }
  if (rule.minLength !== undefined && length < rule.minLength) {
    return `must NOT have fewer than ${rule.minLength} characters`;
  }
  if (rule[WELL_FORMED] === true && textProblem(value) !== null) {
    return 'must be well-formed Unicode without control characters';
  }
  return null;
}

function refusal(index: number, where: string, message: string): TokenMeterApiError {
  const error = `deductions[${index}]${where}: ${message}`;
  return new TokenMeterApiError(400, 'invalid_request', error, { success: false, code: 'invalid_request', error });
}
