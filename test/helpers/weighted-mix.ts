/** A mix of kinds with weights summing to 1, as the bank workloads draw their steps. */
export type Mix<K extends string> = readonly (readonly [K, number])[];

/** The kind whose share of [0, 1) holds `roll`; `fallback` past the last (rounding). */
export function chooseFrom<K extends string>(mix: Mix<K>, roll: number, fallback: K): K {
  let sum = 0;
  for (const [kind, weight] of mix) {
    sum += weight;
    if (roll < sum) return kind;
  }
  return fallback;
}
