/** What a feature handler gets: who runs it and the caller's input. */
export interface FeatureRun {
  account: string;
  feature: string;
  input: unknown;
}

/** Runs the work behind a token-costing feature; throwing means the work failed and nothing is charged. */
export type FeatureHandler = (run: FeatureRun) => Promise<unknown>;

export type FeatureHandlers = Record<string, FeatureHandler>;

/**
 * The built-in handlers simulate the seed app's features so the demo works offline; their
 * results say plainly that they are simulated.
 */
export function simulatedHandler(): FeatureHandler {
  return async (run) => ({
    simulated: true,
    feature: run.feature,
    message: `Simulated ${run.feature.replaceAll('_', ' ')} for account ${run.account}: no real work was done.`,
  });
}
