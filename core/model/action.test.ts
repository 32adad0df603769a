import { describe, expect, it } from 'vitest';
import {
  ActionName,
  ActionStrategy,
  CountOrPercent,
  resolveCountOrPercent,
  resolveMaxConcurrency,
  resolveMaxErrors,
} from './action.js';

describe('resolveCountOrPercent', () => {
  it.each([
    { value: 3, total: 10, rounding: 'floor', expected: 3 },
    { value: 3, total: 2, rounding: 'floor', expected: 3 },
    { value: '10%', total: 50, rounding: 'floor', expected: 5 },
    { value: '40%', total: 10, rounding: 'floor', expected: 4 },
    { value: '15%', total: 10, rounding: 'floor', expected: 1 },
    { value: '15%', total: 10, rounding: 'ceil', expected: 2 },
    { value: '10%', total: 29, rounding: 'floor', expected: 2 },
    { value: '10%', total: 30, rounding: 'ceil', expected: 3 },
    { value: '0%', total: 100, rounding: 'ceil', expected: 0 },
    { value: '100%', total: 7, rounding: 'floor', expected: 7 },
  ] as const)('$value of $total rounded $rounding is $expected', ({ value, total, rounding, expected }) => {
    expect(resolveCountOrPercent(value, total, rounding)).toBe(expected);
  });
});

describe('SSM rate controls', () => {
  it('never lets a percentage of concurrency reach 0', () => {
    expect(resolveMaxConcurrency('10%', 5)).toBe(1);
    expect(resolveMaxConcurrency('0%', 500)).toBe(1);
    expect(resolveMaxConcurrency('20%', 500)).toBe(100);
  });

  it('lets an error budget be 0: the first failure stops new dispatches', () => {
    expect(resolveMaxErrors(0, 10)).toBe(0);
    expect(resolveMaxErrors('5%', 10)).toBe(0);
    expect(resolveMaxErrors('10%', 50)).toBe(5);
  });

  it('defaults to 50 at once and no errors, as SSM Run Command does', () => {
    expect(ActionStrategy.parse({})).toEqual({ maxConcurrency: 50, maxErrors: 0, jobTimeoutSec: 300 });
  });
});

describe('action inputs', () => {
  it('accepts counts, digit strings and percentages', () => {
    expect(CountOrPercent.parse(4)).toBe(4);
    expect(CountOrPercent.parse('4')).toBe(4);
    expect(CountOrPercent.parse('25%')).toBe('25%');
  });

  it.each(['-1', '101%', 'ten', '5.5', '%'])('refuses %s', (value) => {
    expect(CountOrPercent.safeParse(value).success).toBe(false);
  });

  it('refuses a concurrency of 0', () => {
    expect(ActionStrategy.safeParse({ maxConcurrency: 0 }).success).toBe(false);
  });

  it('refuses an action outside the allow-list, naming the allowed ones', () => {
    const result = ActionName.safeParse('rm -rf');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/start, stop, restart/);
  });
});
