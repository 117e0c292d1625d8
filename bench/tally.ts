import type { Expectation, Op, OpClass } from './workloads.ts';

/** What a deduction came back as. */
export type Outcome = 'charged' | 'replayed' | 'refused';

type Counts = Record<Outcome | 'error', number>;

const zero = (): Counts => ({ charged: 0, replayed: 0, refused: 0, error: 0 });

/** Outcomes as the callers saw them, per class of op. */
export class Tally {
  readonly byClass: Record<OpClass, Counts> = { regular: zero(), dry: zero(), too_big: zero() };
  readonly errors: string[] = [];

  add(op: Op, outcome: Outcome): void {
    this.byClass[op.cls][outcome]++;
  }

  addError(op: Op, err: unknown): void {
    this.byClass[op.cls].error++;
    if (this.errors.length < 5) this.errors.push(err instanceof Error ? err.message : String(err));
  }

  total(outcome: Outcome | 'error'): number {
    return this.byClass.regular[outcome] + this.byClass.dry[outcome] + this.byClass.too_big[outcome];
  }

  toJSON() {
    return { ...this.byClass, errors: this.errors };
  }
}

/** Where the outcomes differ from what the model says must have happened (empty: exact). */
export function compareWithModel(tally: Tally, model: Expectation): string[] {
  const problems: string[] = [];
  const { regular, dry, too_big: tooBig } = tally.byClass;
  const expect = (what: string, actual: number, expected: number) => {
    if (actual !== expected) problems.push(`${what}: ${actual}, expected ${expected}`);
  };
  expect('errors', tally.total('error'), 0);
  for (const e of tally.errors) problems.push(`error: ${e}`);
  expect('charged (all)', tally.total('charged'), model.charged());
  expect('regular charged', regular.charged, model.regularUnits);
  expect('regular replayed', regular.replayed, model.regularRepeats);
  expect('regular refused', regular.refused, 0);
  expect('dry charged', dry.charged, model.dryCharged());
  expect('dry answered', dry.charged + dry.replayed + dry.refused, model.dryOps);
  if (dry.replayed > model.dryRepeats) problems.push(`dry replayed ${dry.replayed} > repeats sent ${model.dryRepeats}`);
  expect('too-big refused', tooBig.refused, model.tooBig);
  expect('too-big accepted', tooBig.charged + tooBig.replayed, 0);
  return problems;
}
