import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { checkStrategyFits, parseStrategy, planWaves, releaseMaxErrors } from './strategy.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);

describe('parseStrategy', () => {
  it('fills every default from an empty strategy', () => {
    expect(parseStrategy({})).toEqual({
      canary: 1,
      batch: '25%',
      maxConcurrency: 50,
      maxErrors: 0,
      approval: 'none',
      drain: { timeoutSec: 300 },
      healthTimeoutSec: 60,
      rollback: 'auto',
    });
    expect(parseStrategy(undefined).batch).toBe('25%');
  });

  it('takes counts and percentages, as numbers or text', () => {
    const s = parseStrategy({ canary: '10%', batch: '5', maxErrors: '5%', maxConcurrency: 10 });
    expect(s).toMatchObject({ canary: '10%', batch: 5, maxErrors: '5%', maxConcurrency: 10 });
  });

  it.each([
    [{ batch: 0 }, 'strategy.batch: a batch has at least 1 host'],
    [{ maxConcurrency: '0%' }, 'strategy.maxConcurrency: at least 1 host at a time'],
    [{ maxErrors: '120%' }, 'strategy.maxErrors'],
    [{ approval: 'sometimes' }, 'strategy.approval: approval is one of "none", "after-canary", "every-wave"'],
    [{ rollback: 'maybe' }, 'strategy.rollback: rollback is one of "auto", "none"'],
    [{ drain: { timeoutSec: -1 } }, 'strategy.drain.timeoutSec'],
    [{ healthTimeoutSec: 0 }, 'strategy.healthTimeoutSec'],
    [{ canary: 'one' }, 'strategy.canary'],
    [{ surprise: true }, 'strategy'],
  ])('refuses %j with a message naming the field', (input, message) => {
    expect(() => parseStrategy(input)).toThrow(ValidationError);
    expect(() => parseStrategy(input)).toThrow(message);
  });
});

describe('planWaves', () => {
  it('puts the canary first, then batches of a share of the whole target, in host order', () => {
    const waves = planWaves(hosts(12), parseStrategy({}));
    expect(waves.map((w) => w.hostIds.length)).toEqual([1, 3, 3, 3, 2]);
    expect(waves[0]).toEqual({ index: 0, kind: 'canary', hostIds: ['h01'], gate: false });
    expect(waves[1]?.hostIds).toEqual(['h02', 'h03', 'h04']);
    expect(waves.every((w) => !w.gate)).toBe(true);
  });

  it('gates only the wave after the canary with after-canary approval', () => {
    const waves = planWaves(hosts(5), parseStrategy({ batch: 2, approval: 'after-canary' }));
    expect(waves.map((w) => w.gate)).toEqual([false, true, false]);
  });

  it('gates every wave but the first with every-wave approval', () => {
    const waves = planWaves(hosts(5), parseStrategy({ canary: 0, batch: 2, approval: 'every-wave' }));
    expect(waves.map((w) => [w.kind, w.gate])).toEqual([
      ['batch', false],
      ['batch', true],
      ['batch', true],
    ]);
  });

  it('rounds percentages up so no wave is empty, and caps the canary at the target', () => {
    expect(
      planWaves(hosts(3), parseStrategy({ canary: '10%', batch: '10%' })).map((w) => w.hostIds.length),
    ).toEqual([1, 1, 1]);
    expect(planWaves(hosts(2), parseStrategy({ canary: 5 })).map((w) => w.kind)).toEqual(['canary']);
  });

  it('plans nothing for no host and refuses a host named twice', () => {
    expect(planWaves([], parseStrategy({}))).toEqual([]);
    expect(() => planWaves(['a', 'a'], parseStrategy({}))).toThrow(ValidationError);
  });
});

describe('the error budget', () => {
  it('resolves a percentage of the target, rounding down', () => {
    expect(releaseMaxErrors(parseStrategy({ maxErrors: '10%' }), 12)).toBe(1);
    expect(releaseMaxErrors(parseStrategy({ maxErrors: 2 }), 12)).toBe(2);
  });

  it('refuses a target of no host and a budget that lets every host fail', () => {
    expect(() => checkStrategyFits(parseStrategy({}), 0)).toThrow('the target matches no host');
    expect(() => checkStrategyFits(parseStrategy({ maxErrors: 3 }), 3)).toThrow(
      'strategy.maxErrors: 3 allows every one of the 3 target hosts to fail',
    );
    expect(() => checkStrategyFits(parseStrategy({ maxErrors: 2 }), 3)).not.toThrow();
  });
});
