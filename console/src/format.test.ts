import { describe, expect, it } from 'vitest';
import { ago, bytes, counts, tagQuery, targetText } from './format.js';

describe('console formatting', () => {
  it.each([
    [undefined, '—'],
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [4 * 1024 ** 3, '4.0 GiB'],
    [300 * 1024 ** 2, '300 MiB'],
  ])('writes %s bytes as %s', (value, text) => {
    expect(bytes(value)).toBe(text);
  });

  it('writes how long ago, and never for no time', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');

    expect(ago(undefined, now)).toBe('never');
    expect(ago('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(ago('2026-01-01T11:59:00Z', now)).toBe('60 s ago');
    expect(ago('2026-01-01T11:30:00Z', now)).toBe('30 min ago');
    expect(ago('2025-12-30T12:00:00Z', now)).toBe('2 d ago');
  });

  it('turns key=value filters into the hosts query, and refuses anything else', () => {
    expect(tagQuery('group=demo region=eu')).toBe('tag=group%3Ddemo&tag=region%3Deu');
    expect(tagQuery(' group=demo, ')).toBe('tag=group%3Ddemo');
    expect(tagQuery('')).toBe('');
    expect(tagQuery('group')).toBeUndefined();
    expect(tagQuery('a=b=c')).toBeUndefined();
  });

  it('names a target and counts jobs by state, leaving out the total and empty states', () => {
    expect(targetText({ tags: { group: 'demo', region: 'eu' } })).toBe('group=demo, region=eu');
    expect(targetText({ hosts: ['a', 'b'] })).toBe('a, b');
    expect(counts({ total: 3, succeeded: 2, timed_out: 1, failed: 0 })).toBe('2 succeeded · 1 timed out');
    expect(counts(undefined)).toBe('no jobs yet');
  });
});
