import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/log.js';
import { type ActionContext, type AgentRuntime, runJob } from './actions.js';

/** The `unstage` JOB as the relay sends it, through the same entry point every job takes. */

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gsm-unstage-action-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const runtime = (role: 'origin' | 'game', webRoot?: string): AgentRuntime =>
  ({
    dataDir: join(scratch, 'data'),
    role,
    ...(webRoot ? { webRoot } : {}),
    drain: { timeoutSec: 1, intervalMs: 100 },
    instances: new Map(),
    logger: createLogger('agent', { level: 'silent' }),
  }) as unknown as AgentRuntime;

const context = (agent: AgentRuntime): ActionContext => ({
  jobId: 'pkg-delete.origin-a.unstage',
  signal: new AbortController().signal,
  progress: () => {},
  log: () => {},
  agent,
});

const params = { game: 'demo', version: '1.1.0', file: 'demo-1.1.0.tar.gz' };

const published = async () => {
  const webRoot = await mkdtemp(join(scratch, 'www-'));
  await mkdir(join(webRoot, 'packages', 'demo', '1.1.0'), { recursive: true });
  await writeFile(join(webRoot, 'packages', 'demo', '1.1.0', 'demo-1.1.0.tar.gz'), 'build');
  return webRoot;
};

describe('the unstage action', () => {
  it('removes the published package from an origin web root, then finds nothing the second time', async () => {
    // Arrange
    const webRoot = await published();
    const ctx = context(runtime('origin', webRoot));

    // Act
    const first = await runJob({ jobId: ctx.jobId, action: 'unstage', params }, ctx);
    const second = await runJob({ jobId: ctx.jobId, action: 'unstage', params }, ctx);

    // Assert
    expect(first).toEqual({ urlPath: 'packages/demo/1.1.0/demo-1.1.0.tar.gz', removed: true });
    expect(second).toMatchObject({ removed: false });
    await expect(lstat(join(webRoot, 'packages', 'demo', '1.1.0'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses on a game host, and refuses a path that would leave the web root', async () => {
    // Arrange
    const webRoot = await published();
    const origin = context(runtime('origin', webRoot));
    const game = context(runtime('game'));

    // Act
    const onGameHost = runJob({ jobId: game.jobId, action: 'unstage', params }, game);
    const escaping = runJob(
      { jobId: origin.jobId, action: 'unstage', params: { ...params, version: '../../..' } },
      origin,
    );
    const missingFile = runJob(
      { jobId: origin.jobId, action: 'unstage', params: { game: 'demo', version: '1.1.0' } },
      origin,
    );

    // Assert
    await expect(onGameHost).rejects.toMatchObject({ code: 'E_WRONG_ROLE' });
    await expect(escaping).rejects.toMatchObject({ code: 'E_BAD_PARAMS' });
    await expect(missingFile).rejects.toMatchObject({ code: 'E_BAD_PARAMS' });
    expect(await readFile(join(webRoot, 'packages', 'demo', '1.1.0', 'demo-1.1.0.tar.gz'), 'utf8')).toBe(
      'build',
    );
  });
});
