import { z } from 'zod';
import {
  CountOrPercent,
  Id,
  RELEASE_APPROVALS,
  RELEASE_ROLLBACKS,
  Version,
} from '../../../core/model/index.js';
import { IntArg } from '../../args.js';

/** `demo@1.1.0`: a game and a version, checked with the API's own rules. */
export const PackageRefArg = z
  .string({ error: 'required: the package as game@version, e.g. demo@1.1.0' })
  .trim()
  .transform((ref, ctx) => {
    const at = ref.indexOf('@');
    if (at <= 0 || at === ref.length - 1) {
      ctx.addIssue({ code: 'custom', message: `'${ref}' is not game@version (e.g. demo@1.1.0)` });
      return z.NEVER;
    }
    return { game: ref.slice(0, at), version: ref.slice(at + 1) };
  })
  .pipe(z.object({ game: Id, version: Version }));

const choice = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: () => `${what} is one of ${values.join(', ')}` });

/** Seconds on the command line: a whole number within what the strategy accepts. */
const seconds = (min: number, max: number) =>
  IntArg.pipe(z.number().min(min, `at least ${min}`).max(max, `at most ${max}`));

/** The strategy options of `gsm release create`, each absent one left to the API's default. */
export const StrategyOptions = z.object({
  canary: CountOrPercent.optional(),
  batch: CountOrPercent.optional(),
  maxErrors: CountOrPercent.optional(),
  maxConcurrency: CountOrPercent.optional(),
  approval: choice(RELEASE_APPROVALS, '--approval').optional(),
  drainTimeout: seconds(0, 86_400).optional(),
  healthTimeout: seconds(1, 3_600).optional(),
  rollback: choice(RELEASE_ROLLBACKS, '--rollback').optional(),
});
export type StrategyOptions = z.output<typeof StrategyOptions>;

/** The request's `strategy`: only what was given, so the API's defaults fill the rest. */
export const strategyOf = (options: StrategyOptions): Record<string, unknown> => {
  const { drainTimeout, healthTimeout } = options;
  const given = { ...options, drainTimeout: undefined, healthTimeout: undefined };
  const strategy: Record<string, unknown> = Object.fromEntries(
    Object.keys(StrategyOptions.shape)
      .map((key) => [key, given[key as keyof StrategyOptions]] as const)
      .filter(([, value]) => value !== undefined),
  );
  if (drainTimeout !== undefined) strategy.drain = { timeoutSec: drainTimeout };
  if (healthTimeout !== undefined) strategy.healthTimeoutSec = healthTimeout;
  return strategy;
};

export const STRATEGY_FLAGS = [
  { flags: '--canary <n|n%>', description: 'hosts in the first wave; 0 skips the canary (default 1)' },
  { flags: '--batch <n|n%>', description: 'hosts per later wave (default 25%)' },
  { flags: '--max-errors <n|n%>', description: 'failed hosts the release may have (default 0)' },
  { flags: '--max-concurrency <n|n%>', description: 'hosts deploying at once (default 50)' },
  {
    flags: '--approval <mode>',
    description: 'none | after-canary | every-wave: waves that wait for `gsm release approve` (default none)',
  },
  {
    flags: '--drain-timeout <sec>',
    description: 'how long a host waits for its players to leave (default 300)',
  },
  { flags: '--health-timeout <sec>', description: 'how long the new version has to answer (default 60)' },
  {
    flags: '--rollback <mode>',
    description: 'auto | none: undo the changed hosts when it fails (default auto)',
  },
] as const;
