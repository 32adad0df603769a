import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { Journal } from './journal.js';

const logger = createLogger('test', { level: 'silent' });
const DAY = 86_400_000;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gsm-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Journal', () => {
  it('keeps a finished job across a restart with its outcome', async () => {
    // Prepare
    const { journal } = await Journal.open(dir, { logger, retentionMs: DAY });
    await journal.begin({ jobId: 'job-1', action: 'start', instance: 'a' });
    await journal.finish('job-1', { ok: true, result: { pid: 42 } });

    // Act
    const reopened = await Journal.open(dir, { logger, retentionMs: DAY });

    // Assess
    expect(reopened.interrupted).toEqual([]);
    expect(reopened.journal.get('job-1')).toMatchObject({
      state: 'done',
      outcome: { ok: true, result: { pid: 42 } },
    });
  });

  it('reports a job cut off by a crash as failed with E_AGENT_RESTARTED, on disk too', async () => {
    const { journal } = await Journal.open(dir, { logger, retentionMs: DAY });
    await journal.begin({ jobId: 'job-2', action: 'deploy', instance: 'a' });

    const first = await Journal.open(dir, { logger, retentionMs: DAY });
    expect(first.interrupted.map((r) => r.jobId)).toEqual(['job-2']);
    const second = await Journal.open(dir, { logger, retentionMs: DAY });
    expect(second.interrupted).toEqual([]);
    expect(second.journal.get('job-2')?.outcome).toMatchObject({
      ok: false,
      error: { code: 'E_AGENT_RESTARTED' },
    });
  });

  it('forgets finished jobs past the retention, removes temp files and skips unreadable records', async () => {
    const { journal } = await Journal.open(dir, { logger, retentionMs: DAY });
    await journal.begin({ jobId: 'old', action: 'stop' });
    await journal.finish('old', { ok: true, result: null });
    await writeFile(join(dir, 'torn.json.abcd.tmp'), '{"jobId":');
    await writeFile(join(dir, 'broken.json'), 'not json');

    const later = await Journal.open(dir, { logger, retentionMs: DAY, now: Date.now() + 2 * DAY });

    expect(later.journal.get('old')).toBeUndefined();
    expect((await readdir(dir)).sort()).toEqual(['broken.json']);
  });

  it('writes each record whole (one JSON line per file)', async () => {
    const { journal } = await Journal.open(dir, { logger, retentionMs: DAY });
    await journal.begin({ jobId: 'a:b.c-1', action: 'install' });
    const text = await readFile(join(dir, 'a:b.c-1.json'), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ jobId: 'a:b.c-1', state: 'running' });
  });
});
