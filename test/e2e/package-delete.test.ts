import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../agent/config.js';
import { type RunningAgent, startAgent } from '../../agent/main.js';
import { main } from '../../cli/main.js';
import { createLogger } from '../../core/log.js';
import type { Package } from '../../core/model/index.js';
import { type DevStack, startDevStack } from '../../local/dev.js';
import { startNginx, type TestNginx } from '../helpers/nginx.js';

/**
 * DELETE /v1/packages/:id removes the origin copies: a package pushed with the CLI is staged by
 * gsm dev's relay to an origin-role agent behind Debian's nginx; `gsm package delete` then runs
 * the `unstage` action on that agent through the action workflow and the same relay, and the
 * file is gone from the origin's folder (and from what nginx serves).
 */

let dir: string;
let stack: DevStack;
let agent: RunningAgent;
let nginx: TestNginx;
let webRoot: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gsm-pkg-delete-'));
  await chmod(dir, 0o755);
  stack = await startDevStack({
    port: 0,
    cwd: dir,
    data: join(dir, 'data'),
    logLevel: 'silent',
    demo: false,
  });
  await stack.store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 28960 });
  // gsm dev's relay derives every agent's secret from this.
  const master = (await readFile(join(dir, 'data', 'agent-master-secret'), 'utf8')).trim();
  webRoot = await mkdtemp(join(dir, 'www-'));
  await chmod(webRoot, 0o755);
  const config = await parseAgentConfig(
    {
      hostId: 'origin-del',
      listen: { host: '127.0.0.1', port: 0 },
      secrets: { master },
      dataDir: await mkdtemp(join(dir, 'agent-')),
      role: 'origin',
      webRoot,
      logLevel: 'silent',
    },
    { env: {} },
  );
  agent = await startAgent(config, createLogger('agent', { level: 'silent' }));
  nginx = await startNginx(webRoot);
  await stack.store.hosts.create({
    id: 'origin-del',
    address: '127.0.0.1',
    port: agent.port,
    role: 'origin',
  });
  await stack.store.origins.create({ id: 'nginx-del', baseUrl: nginx.base, hostId: 'origin-del' });
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await nginx?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = async (...args: string[]) => {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const code = await main(['node', 'gsm', ...args], {
    env: {},
    cwd: dir,
    streams: { stdout, stderr: new PassThrough().resume() },
  });
  return { code, out };
};

const staged = async (id: string, timeoutMs = 60_000): Promise<Package> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pkg = await stack.store.packages.get(id);
    if (pkg.state === 'staged') return pkg;
    if (pkg.state === 'rejected' || Date.now() > deadline) throw new Error(`package ${id} is ${pkg.state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('deleting a staged package', () => {
  it('removes the copy from the origin folder through the relay, then the record', {
    timeout: 90_000,
  }, async () => {
    // Arrange: push, and wait until the origin serves it.
    const file = join(dir, 'demo-4.0.0.tar.gz');
    await writeFile(file, randomBytes(3 * 1024 * 1024 + 5));
    expect((await cli('package', 'push', file, '--game', 'demo', '--version', '4.0.0')).code).toBe(0);
    const pkg = await staged('demo@4.0.0');
    const published = join(webRoot, 'packages', 'demo', '4.0.0', 'demo-4.0.0.tar.gz');
    const url = `${nginx.base}/packages/demo/4.0.0/demo-4.0.0.tar.gz`;
    expect(pkg.origins).toEqual([{ id: 'nginx-del', url, verified: true }]);
    expect((await lstat(published)).isFile()).toBe(true);

    // Act
    const deleted = await cli('package', 'delete', 'demo@4.0.0', '--json');

    // Assert
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.out)).toMatchObject({
      id: 'demo@4.0.0',
      state: 'removed',
      actionId: expect.stringMatching(/^unstage-/),
      origins: [{ id: 'nginx-del', hostId: 'origin-del', removed: true }],
      notes: [],
    });
    await expect(lstat(published)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await fetch(url)).status).toBe(404);
    await expect(stack.store.packages.get('demo@4.0.0')).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    const jobs = await stack.store.jobs.listByHost('origin-del');
    expect(jobs.items.find((j) => j.action === 'unstage')).toMatchObject({
      state: 'succeeded',
      result: { removed: true },
    });
  });
});
