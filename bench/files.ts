import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

const BUILT_FOLDERS = ['core', 'functions', 'workflows', 'relay', 'agent', 'protocol', 'cli', 'local'];

const newestSource = (dir: string): number => {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
};

/**
 * The built `gsm` (`bin/gsm.js` over dist/), what users run: builds it first when dist/ is
 * missing or older than a source file, and fails with the build's output when that fails.
 */
export const builtCli = (root: string): string => {
  const entry = join(root, 'bin', 'gsm.js');
  const built = join(root, 'dist', 'cli', 'main.js');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  const sourceAt = Math.max(...BUILT_FOLDERS.map((folder) => newestSource(join(root, folder))));
  if (builtAt < sourceAt) {
    process.stderr.write(`dist/ is ${builtAt ? 'older than the sources' : 'missing'}: npm run build\n`);
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    if (build.status !== 0) {
      throw new Error(
        `npm run build failed (exit ${build.status}); the bench runs the built CLI:\n${build.stdout}${build.stderr}`,
      );
    }
  }
  return entry;
};
