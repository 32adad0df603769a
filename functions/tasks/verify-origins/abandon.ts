import type { Package } from '../../../core/model/index.js';
import { allOrigins, originUrl, type StagingDeps } from '../plan-staging/plan.js';

/**
 * The intake's Catch for staging that failed past its retries (PlanStaging or VerifyOrigins:
 * the store or the origins unreachable for minutes). The package goes back from `staging` to
 * `verified` with the error as its reason, usable and deletable. Every registered origin is
 * listed on it as unverified: any of them may hold a copy a stage job published before the
 * failure, and DELETE removes the copies of the origins listed. The workflow then fails, so
 * the execution shows what happened.
 */

export interface AbandonStagingEvent {
  readonly packageId: string;
  readonly executionName: string;
  /** The caught error, as Step Functions gives it (`ResultPath` of the Catch). */
  readonly error: { readonly Error?: string; readonly Cause?: string };
}

export interface AbandonStagingResult {
  readonly packageId: string;
  readonly abandoned: boolean;
  readonly state: Package['state'];
  readonly reason?: string;
}

/** Step Functions' Cause of a Lambda error is the function's JSON error; its message reads best. */
const describe = ({ Error: name, Cause: cause }: AbandonStagingEvent['error']): string => {
  let message = cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not JSON: the cause as it is.
  }
  return [name, message.slice(0, 1000)].filter(Boolean).join(': ') || 'an unknown error';
};

export const abandonStaging = async (
  deps: StagingDeps,
  event: AbandonStagingEvent,
): Promise<AbandonStagingResult> => {
  const { store, logger } = deps;
  const pkg = await store.packages.get(event.packageId);
  // Failed before this execution moved it (PlanStaging's first read), or settled already.
  if (pkg.state !== 'staging' || pkg.stagingExecution !== event.executionName) {
    return { packageId: pkg.id, abandoned: false, state: pkg.state };
  }
  const reason = `staging failed: ${describe(event.error)}`;
  const origins = await allOrigins(store);
  const recorded = new Map(pkg.origins.map((o) => [o.id, o]));
  for (const origin of origins) {
    recorded.set(origin.id, { id: origin.id, url: originUrl(origin, pkg), verified: false });
  }
  const records: Package['origins'] = [...recorded.values()].map(({ id, url }) => ({
    id,
    url,
    verified: false,
    error: reason,
  }));
  const after = await store.packages.transition(pkg.id, 'verified', { origins: records, reason });
  logger.warn({ packageId: pkg.id, reason }, 'staging abandoned');
  return { packageId: pkg.id, abandoned: true, state: after.state, reason };
};
