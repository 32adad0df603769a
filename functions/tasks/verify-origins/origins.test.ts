import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrigin, type TestOrigin } from '../../../test/helpers/http-origin.js';
import { checkOrigin } from './origins.js';

const body = Buffer.alloc(300_000, 3);
const pkg = { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };

describe('checkOrigin', () => {
  let good: TestOrigin;
  let corrupt: TestOrigin;

  beforeAll(async () => {
    good = await startOrigin(new Map([['p/f.tar.gz', body]]));
    corrupt = await startOrigin(new Map([['p/f.tar.gz', body]]), { corrupt: true });
  });
  afterAll(async () => {
    await good.close();
    await corrupt.close();
  });

  it('passes an intact copy with either check', async () => {
    expect(await checkOrigin(good.url('p/f.tar.gz'), pkg, 'sha256')).toBeUndefined();
    expect(await checkOrigin(good.url('p/f.tar.gz'), pkg, 'size')).toBeUndefined();
  });

  it('sha256 (the default) catches a copy with a flipped byte; size, by design, does not', async () => {
    expect(await checkOrigin(corrupt.url('p/f.tar.gz'), pkg)).toMatch(/^hash mismatch at /);
    expect(await checkOrigin(corrupt.url('p/f.tar.gz'), pkg, 'size')).toBeUndefined();
  });

  it('size reads only the headers: one HEAD, no GET of the body', async () => {
    const before = good.requests.length;
    await checkOrigin(good.url('p/f.tar.gz'), pkg, 'size');
    expect(good.requests.length - before).toBe(1);
  });

  it.each(['sha256', 'size'] as const)('%s: a missing copy or a wrong length is an error', async (check) => {
    expect(await checkOrigin(good.url('p/missing.tar.gz'), pkg, check)).toMatch(/answered 404/);
    expect(await checkOrigin(good.url('p/f.tar.gz'), { ...pkg, size: pkg.size + 1 }, check)).toMatch(
      /gives 300000 bytes, the package has 300001/,
    );
  });
});
