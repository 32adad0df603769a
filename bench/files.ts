import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const MiB = 1024 * 1024;

/** A file of `sizeMb` MiB of random bytes (incompressible, like a build's .pak files), kept between runs. */
export const ensureRandomFile = (file: string, sizeMb: number): void => {
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file) && statSync(file).size === sizeMb * MiB) return;
  const fd = openSync(file, 'w');
  const chunk = Buffer.allocUnsafe(8 * MiB);
  for (let done = 0; done < sizeMb * MiB; done += chunk.length) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
};
