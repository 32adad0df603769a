import { existsSync } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../local/demo-game/harness.js';
import { LogWatcher, rotateByCopyTruncate, rotateByRename, tailLog } from './log-file.js';

let root: string;
beforeAll(async () => {
  root = await tempDir('gsm-log-');
  return () => rm(root, { recursive: true, force: true });
});

const policy = { maxBytes: 100, keep: 2, checkIntervalMs: 1000 };

describe('console log rotation', () => {
  it('keeps at most N rotated files, newest as .1', async () => {
    const file = join(root, 'a.log');
    for (const generation of ['one', 'two', 'three']) {
      await writeFile(file, `${generation}\n`);
      await rotateByRename(file, policy);
    }
    expect(await readFile(`${file}.1`, 'utf8')).toBe('three\n');
    expect(await readFile(`${file}.2`, 'utf8')).toBe('two\n');
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it('copy-truncate keeps the inode so an O_APPEND writer carries on at the new end', async () => {
    const file = join(root, 'b.log');
    await writeFile(file, 'x'.repeat(500));
    expect(await rotateByCopyTruncate(file, policy)).toBe(true);
    await appendFile(file, 'next\n');
    expect(await readFile(file, 'utf8')).toBe('next\n');
    expect((await readFile(`${file}.1`, 'utf8')).length).toBe(500);
  });

  it('the watcher rotates only past the size limit', async () => {
    const file = join(root, 'c.log');
    const watcher = new LogWatcher(file, policy);
    await writeFile(file, 'small\n');
    expect(await watcher.check()).toBe(false);
    await appendFile(file, 'y'.repeat(200));
    expect(await watcher.check()).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('tails the last lines of a log', async () => {
    const file = join(root, 'd.log');
    await writeFile(file, `${Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')}\n`);
    expect(await tailLog(file, 3)).toEqual(['line 47', 'line 48', 'line 49']);
    expect(await tailLog(file, 2, 20)).toEqual(['line 48', 'line 49']);
    expect(await tailLog(join(root, 'missing.log'), 3)).toEqual([]);
  });
});
