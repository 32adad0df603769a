import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../test/helpers/api.js';
import { runMain } from '../test/helpers/cli-in-process.js';
import { type LoopbackServer, serveLoopback } from '../test/helpers/release-api.js';
import type { CliEnv } from './config.js';

/** `gsm package push` in process, against the real API on a loopback port over real S3 and DynamoDB. */

const MiB = 1024 * 1024;
let api: TestApi;
let server: LoopbackServer;
let dir: string;
let requests: string[] = [];

beforeAll(async () => {
  api = await startTestApi();
  await api.store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 28960 });
  server = await serveLoopback(
    (req) => api.app.fetch(req),
    (req) => requests.push(`${req.method} ${new URL(req.url).pathname}`),
  );
  dir = await mkdtemp(join(tmpdir(), 'gsm-push-'));
});

afterAll(async () => {
  await server?.close();
  await api?.close();
  await rm(dir, { recursive: true, force: true });
});

const gsm = (args: string[], env: Partial<CliEnv> = {}) =>
  runMain(args, { env: { endpoint: server.base, apiKey: api.keys.operator, ...env }, cwd: dir });

const file = async (name: string, size: number) => {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
};

describe('gsm package push', () => {
  it('uploads in parts, completes with the SHA-256 and prints the package', async () => {
    const { path, sha256 } = await file('demo-1.0.0.tar.gz', 2 * 8 * MiB + 123);

    const result = await gsm([
      'package',
      'push',
      path,
      '--game',
      'demo',
      '--version',
      '1.0.0',
      '--no-wait',
      '--json',
    ]);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: 'demo@1.0.0', state: 'verifying', sha256 });
    expect(result.stderr).toContain('sent 3 parts');
    expect(await api.objects.head('uploads/demo@1.0.0/demo-1.0.0.tar.gz')).toMatchObject({
      size: 2 * 8 * MiB + 123,
    });
  });

  it('resumes an interrupted push and sends only the missing parts', async () => {
    const { path, sha256 } = await file('demo-1.1.0.tar.gz', 3 * 8 * MiB + 5);
    const args = [
      'package',
      'push',
      path,
      '--game',
      'demo',
      '--version',
      '1.1.0',
      '--no-wait',
      '--concurrency',
      '1',
    ];

    const first = await gsm(args, { abortAfterParts: 2 });
    requests = [];
    const second = await gsm([...args, '--json']);

    expect(first.code).toBe(1);
    expect(first.stderr).toContain('stopped after 2 parts');
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('resuming');
    expect(second.stderr).toContain('sent 2 parts (2 resumed)');
    expect(JSON.parse(second.stdout)).toMatchObject({ state: 'verifying', sha256 });
    expect(requests).toContain('POST /v1/packages/demo@1.1.0/complete');
  });

  it('refuses a different file under a version that exists', async () => {
    const { path } = await file('other.tar.gz', 10);
    await gsm(['package', 'push', path, '--game', 'demo', '--version', '1.2.0', '--no-wait']);
    const { path: changed } = await file('other.tar.gz', 11);

    const result = await gsm([
      'package',
      'push',
      changed,
      '--game',
      'demo',
      '--version',
      '1.2.0',
      '--no-wait',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("package 'demo@1.2.0' exists with other.tar.gz (10 bytes)");
  });

  it('refuses an unknown game with the API’s reason', async () => {
    const { path } = await file('x.tar.gz', 10);
    const result = await gsm(['package', 'push', path, '--game', 'nogame', '--version', '1.0.0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown game 'nogame'");
  });

  it('lists, shows and deletes packages; a package being verified is not deleted', async () => {
    const { path } = await file('gone.tar.gz', 9 * MiB);
    await gsm(['package', 'push', path, '--game', 'demo', '--version', '1.3.0'], { abortAfterParts: 1 });

    const list = await gsm(['package', 'list', '--game', 'demo', '--json']);
    const show = await gsm(['package', 'show', 'demo@1.2.0']);
    const refused = await gsm(['package', 'delete', 'demo@1.2.0']);
    const removed = await gsm(['package', 'delete', 'demo@1.3.0']);

    expect(JSON.parse(list.stdout).map((p: { id: string }) => p.id)).toContain('demo@1.0.0');
    expect(show.stdout).toMatch(/state\s+verifying/);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("package 'demo@1.2.0' is verifying");
    expect(removed.code).toBe(0);
    expect((await gsm(['package', 'show', 'demo@1.3.0'])).code).toBe(1);
  });
});
