import type { Feature } from '../core/catalog.ts';

/** What a feature handler gets: who runs it, the caller's input, and the run's hold. */
export interface FeatureRun {
  account: string;
  feature: string;
  input: unknown;
  /** The hold the run's cost is reserved under: unique per run, so a receiver can deduplicate on it. */
  holdId: number;
}

/**
 * Runs the work behind a token-costing feature. Returning is the final answer: the gate
 * commits the hold. Throwing means the work failed: the gate releases it and charges nothing.
 */
export type FeatureHandler = (run: FeatureRun) => Promise<unknown>;

export type FeatureHandlers = Record<string, FeatureHandler>;

/** How long the gate waits for a `handler_url` to answer before it gives up and charges nothing. */
export const HANDLER_URL_TIMEOUT_MS = 300_000;

/**
 * The built-in handlers simulate the seed app's features so the demo works offline; their
 * results say plainly that they are simulated. Only demo mode uses them.
 */
export function simulatedHandler(): FeatureHandler {
  return async (run) => ({
    simulated: true,
    feature: run.feature,
    message: `Simulated ${run.feature.replaceAll('_', ' ')} for account ${run.account}: no real work was done.`,
  });
}

/** A handler answered something other than 2xx, or could not be reached. */
export class FeatureHandlerError extends Error {
  override readonly name = 'FeatureHandlerError';
}

/**
 * A handler that POSTs each run to the operator's `handler_url` as JSON `{account, feature,
 * input}`, with `Idempotency-Key: tokenmeter-hold-<hold id>` (the same for a run however often
 * the receiver sees it) and `X-Tokenmeter-Account` / `X-Tokenmeter-Feature`. A 2xx answer is the
 * work done: its JSON body (null when empty, the text when not JSON) is the run's result. Any other status, a network
 * error or no answer within the timeout is a failure.
 */
export function urlHandler(url: string, timeoutMs = HANDLER_URL_TIMEOUT_MS): FeatureHandler {
  return async (run) => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'idempotency-key': `tokenmeter-hold-${run.holdId}`,
          'x-tokenmeter-account': encodeURIComponent(run.account),
          'x-tokenmeter-feature': run.feature,
        },
        body: JSON.stringify({ account: run.account, feature: run.feature, input: run.input }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      throw new FeatureHandlerError(`handler_url for ${run.feature} could not be reached`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.status < 200 || res.status > 299) {
      throw new FeatureHandlerError(`handler_url for ${run.feature} answered ${res.status}`);
    }
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // The work was done (2xx); a body that is not JSON is passed on as text.
      return text;
    }
  };
}

/**
 * Which handler runs a feature behind the service's gate: one the embedding app passed
 * (`deps.features`), else the feature's configured `handler_url`, else, in demo mode only, the
 * simulated one. Null: nothing runs it here, so nothing may be charged for it.
 */
export function handlerFor(
  feature: Feature,
  options: { features?: FeatureHandlers; demo: boolean; handlerUrlTimeoutMs?: number },
): FeatureHandler | null {
  const embedded = options.features?.[feature.id];
  if (embedded) return embedded;
  if (feature.handlerUrl !== null) return urlHandler(feature.handlerUrl, options.handlerUrlTimeoutMs);
  return options.demo ? simulatedHandler() : null;
}
