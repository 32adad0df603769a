import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { CountOrPercent, resolveCountOrPercent, resolveMaxErrors } from './action.js';

/**
 * How a release reaches its hosts: a canary wave, then batches, with SSM Run Command's rate
 * controls across the whole release. Every field is optional; the defaults are the issue's.
 */

export const RELEASE_APPROVALS = ['none', 'after-canary', 'every-wave'] as const;
export const RELEASE_ROLLBACKS = ['auto', 'none'] as const;

export const STRATEGY_DEFAULTS = {
  canary: 1,
  batch: '25%',
  maxConcurrency: 50,
  maxErrors: 0,
  approval: 'none',
  drain: { timeoutSec: 300 },
  healthTimeoutSec: 60,
  rollback: 'auto',
} as const;

const oneOf = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: () => `${what} is one of ${values.map((v) => `"${v}"`).join(', ')}` });

export const ReleaseStrategy = z
  .object({
    /** Hosts in the first wave; 0 skips the canary. */
    canary: CountOrPercent.default(STRATEGY_DEFAULTS.canary),
    /** Hosts per later wave, a percentage of the whole target. */
    batch: CountOrPercent.refine((v) => v !== 0 && v !== '0%', 'a batch has at least 1 host').default(
      STRATEGY_DEFAULTS.batch,
    ),
    maxConcurrency: CountOrPercent.refine((v) => v !== 0 && v !== '0%', 'at least 1 host at a time').default(
      STRATEGY_DEFAULTS.maxConcurrency,
    ),
    /** Failures the whole release may have; the next one stops it (SSM's maxErrors). */
    maxErrors: CountOrPercent.default(STRATEGY_DEFAULTS.maxErrors),
    approval: oneOf(RELEASE_APPROVALS, 'approval').default(STRATEGY_DEFAULTS.approval),
    drain: z
      .object({ timeoutSec: z.number().int().min(0).max(86_400).default(STRATEGY_DEFAULTS.drain.timeoutSec) })
      .strict()
      .default({ timeoutSec: STRATEGY_DEFAULTS.drain.timeoutSec }),
    healthTimeoutSec: z.number().int().min(1).max(3_600).default(STRATEGY_DEFAULTS.healthTimeoutSec),
    rollback: oneOf(RELEASE_ROLLBACKS, 'rollback').default(STRATEGY_DEFAULTS.rollback),
  })
  .strict();
export type ReleaseStrategy = z.output<typeof ReleaseStrategy>;
export type ReleaseStrategyInput = z.input<typeof ReleaseStrategy>;

/** Parses a strategy, every problem named by its field in one ValidationError. */
export const parseStrategy = (input: unknown): ReleaseStrategy => {
  const parsed = ReleaseStrategy.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const at = issue.path.join('.');
    return at ? `strategy.${at}: ${issue.message}` : `strategy: ${issue.message}`;
  });
  throw new ValidationError(problems.join('; '));
};

export const WaveKind = z.enum(['canary', 'batch']);
export type WaveKind = z.infer<typeof WaveKind>;

export const Wave = z.object({
  index: z.number().int().min(0),
  kind: WaveKind,
  hostIds: z.array(z.string()),
  /** Whether the release waits for an approval before this wave. */
  gate: z.boolean(),
});
export type Wave = z.infer<typeof Wave>;

/**
 * Refuses a strategy that cannot mean anything for this many hosts: an error budget as large
 * as the target would never stop the release.
 */
export const checkStrategyFits = (strategy: ReleaseStrategy, total: number): void => {
  if (total === 0) throw new ValidationError('the target matches no host');
  if (typeof strategy.maxErrors === 'number' && strategy.maxErrors >= total && total > 0) {
    throw new ValidationError(
      `strategy.maxErrors: ${strategy.maxErrors} allows every one of the ${total} target hosts to fail`,
    );
  }
};

/**
 * Canary first, then batches of the rest, in the given host order. Shares round up so a
 * percentage never gives an empty wave (25% of 2 hosts is 1), and a canary as large as the
 * target leaves no batch.
 */
export const planWaves = (hostIds: readonly string[], strategy: ReleaseStrategy): Wave[] => {
  if (new Set(hostIds).size !== hostIds.length)
    throw new ValidationError('a host is named twice in the target');
  const total = hostIds.length;
  if (total === 0) return [];
  const canary = Math.min(total, resolveCountOrPercent(strategy.canary, total, 'ceil'));
  const batch = Math.max(1, resolveCountOrPercent(strategy.batch, total, 'ceil'));
  const waves: Wave[] = [];
  const gateFor = (index: number, kind: WaveKind): boolean =>
    strategy.approval === 'every-wave'
      ? index > 0
      : strategy.approval === 'after-canary' &&
        kind === 'batch' &&
        index === 1 &&
        waves[0]?.kind === 'canary';
  const push = (kind: WaveKind, ids: string[]) => {
    const index = waves.length;
    waves.push({ index, kind, hostIds: ids, gate: gateFor(index, kind) });
  };
  if (canary > 0) push('canary', hostIds.slice(0, canary));
  for (let start = canary; start < total; start += batch) push('batch', hostIds.slice(start, start + batch));
  return waves;
};

/** The release's error budget as a count of hosts (SSM semantics: the (N+1)th failure stops it). */
export const releaseMaxErrors = (strategy: ReleaseStrategy, total: number): number =>
  resolveMaxErrors(strategy.maxErrors, total);
