import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256OfStream } from './sha256-worker.js';

const MiB = 1024 * 1024;

async function* chunksOf(data: Buffer, sizes: readonly number[]) {
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

describe('sha256OfStream', () => {
  it.each([
    ['nothing', 0],
    ['one byte', 1],
    ['one byte short of a batch', MiB - 1],
    ['several batches and a tail', 3 * MiB + 12_345],
  ])('gives the digest and size of %s, on the worker and inline alike', async (_name, length) => {
    // Arrange
    const data = randomBytes(length);
    const expected = createHash('sha256').update(data).digest('hex');

    // Act: uneven chunks, so batches are filled across chunk boundaries.
    const off = await sha256OfStream(chunksOf(data, [65_536, 7, 2 * MiB + 3]));
    const inline = await sha256OfStream(chunksOf(data, [65_536]), { inline: true });

    // Assert
    expect(off).toEqual({ sha256: expected, size: length });
    expect(inline).toEqual({ sha256: expected, size: length });
  });

  it('passes on the error of a failing stream', async () => {
    // Arrange
    async function* broken() {
      yield randomBytes(2 * MiB);
      throw new Error('connection reset');
    }

    // Act
    const result = sha256OfStream(broken());

    // Assert
    await expect(result).rejects.toThrow('connection reset');
  });
});
