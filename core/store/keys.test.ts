import { describe, expect, it } from 'vitest';
import { BadCursorError } from '../errors.js';
import { decodeCursor, encodeCursor, pageLimit, stripInternal } from './keys.js';

const expect_ = { attributes: ['pk', 'sk', 'gsi1pk', 'gsi1sk'], partition: { gsi1pk: 'HOST' } };
const key = { pk: 'HOST#a', sk: 'HOST', gsi1pk: 'HOST', gsi1sk: 'a' };

describe('cursors', () => {
  it('round-trip as opaque base64url', () => {
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, expect_)).toEqual(key);
  });

  it.each([
    ['extra attribute', { ...key, evil: 'x' }],
    ['missing attribute', { pk: 'HOST#a', sk: 'HOST', gsi1pk: 'HOST' }],
    ['non-string value', { ...key, gsi1sk: 5 }],
    ['another partition', { ...key, gsi1pk: 'GAME' }],
    ['an array', [1, 2]],
  ])('refuse %s', (_name, value) => {
    const cursor = Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(() => decodeCursor(cursor, expect_)).toThrow(BadCursorError);
  });
});

describe('page limits', () => {
  it.each([
    [undefined, 50],
    [0, 1],
    [-3, 1],
    [7.9, 7],
    [10_000, 500],
    [Number.NaN, 50],
  ])('%s becomes %s', (given, limit) => {
    expect(pageLimit(given)).toBe(limit);
  });
});

describe('stripInternal', () => {
  it('removes keys and index keys but keeps the record', () => {
    expect(stripInternal({ ...key, gsi4pk: 'x', logRev: 3, id: 'a' })).toEqual({ id: 'a' });
  });
});
