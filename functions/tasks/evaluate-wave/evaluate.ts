import type { Logger } from '../../../core/log.js';
import type { EvaluateWaveEvent, EvaluateWaveResult } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';

export interface EvaluateWaveDeps {
  readonly store: Store;
  readonly logger?: Logger;
}

/**
 * EvaluateWave: after a wave, whether the next one may start. The relay counts every failed
 * host job on the release's shared `failed` counter, so this reads the cumulative failures of
 * all waves so far and applies SSM Run Command's rule: with maxErrors N, the (N+1)th failure
 * stops the release. A shard the relay could not run stops it too (its hosts' outcomes are
 * unknown), and so does an operator's cancel, whatever the budget says.
 */
export const evaluateWave = async (
  { store, logger }: EvaluateWaveDeps,
  event: EvaluateWaveEvent,
): Promise<EvaluateWaveResult> => {
  const [counters, release] = await Promise.all([
    store.counters.get(event.releaseId),
    store.releases.get(event.releaseId),
  ]);
  const failed = counters.failed ?? 0;
  const base = { releaseId: event.releaseId, failed, maxErrors: event.maxErrors };
  const lost = event.shardResults.filter((result) => 'error' in result);
  let reason: string | undefined;
  if (release.cancelRequestedAt || release.state === 'cancelled') {
    reason = `cancelled: ${release.cancelReason ?? 'by an operator'}`;
  } else if (failed > event.maxErrors) {
    reason = `${failed} host(s) failed by wave ${event.wave + 1}, more than maxErrors ${event.maxErrors}`;
  } else if (lost.length > 0) {
    const first = lost[0] && 'error' in lost[0] ? lost[0].error : {};
    reason = `wave ${event.wave + 1}: ${lost.length} shard(s) did not complete (${first.Error ?? 'error'}: ${first.Cause ?? ''})`;
  }
  logger?.info({ ...base, wave: event.wave, decision: reason ? 'stop' : 'continue' }, 'wave evaluated');
  // Always a reason, so the definition can select it without knowing the decision.
  return reason
    ? { ...base, decision: 'stop', reason }
    : {
        ...base,
        decision: 'continue',
        reason: `${failed} host(s) failed so far, within maxErrors ${event.maxErrors}`,
      };
};
