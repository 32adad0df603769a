import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { type AwsClients, createAwsClients } from '../../core/aws.js';
import type { Package } from '../../core/model/index.js';
import { type DevStack, startDevStack } from '../../local/dev.js';

/**
 * Packages end to end on the whole local stack in this process: `gsm package push` through the
 * API and presigned S3 parts, the S3 event → trigger → intake state machine → register and
 * verify tasks; and build-pipeline drops under incoming/ with no CLI at all.
 */

const MiB = 1024 * 1024;
let dir: string;
let stack: DevStack;
let aws: AwsClients;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gsm-packages-'));
  stack = await startDevStack({ port: 0, cwd: dir, logLevel: 'silent', demo: false });
  await stack.store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 28960 });
  const { endpoints } = stack;
  aws = createAwsClients({
    region: endpoints.region,
    credentials: endpoints.credentials,
    endpoints: { dynamodb: endpoints.dynamodb, s3: endpoints.s3, stepfunctions: endpoints.stepfunctions },
    s3ForcePathStyle: true,
  });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const gsm = async (args: string[], env: Record<string, unknown> = {}) => {
  const streams = { stdout: new PassThrough(), stderr: new PassThrough() };
  const text = { stdout: '', stderr: '' };
  streams.stdout.on('data', (c: Buffer) => {
    text.stdout += c.toString();
  });
  streams.stderr.on('data', (c: Buffer) => {
    text.stderr += c.toString();
  });
  const code = await main(['node', 'gsm', ...args], { env: { ...env }, cwd: dir, streams });
  return { code, ...text };
};

const randomFile = async (name: string, size: number) => {
  const bytes = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, bytes);
  return { path, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
};

/** Waits until intake has settled the package (or it never appears). */
const settled = async (id: string, timeoutMs = 30_000): Promise<Package | undefined> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pkg = await stack.store.packages.get(id).catch(() => undefined);
    if (pkg && !['uploading', 'verifying'].includes(pkg.state)) return pkg;
    if (Date.now() > deadline) return pkg;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const drop = (key: string, body: Uint8Array | string, metadata?: Record<string, string>) =>
  aws.s3.send(
    new PutObjectCommand({ Bucket: stack.endpoints.bucket, Key: key, Body: body, Metadata: metadata }),
  );

/** The newest intake execution for an object, once there are `count` of them and it has ended. */
const intakeOutcome = async (fileName: string, { count = 1, timeoutMs = 30_000 } = {}) => {
  const stateMachineArn = process.env.GSM_STATE_MACHINE_INTAKE;
  const prefix = fileName.replace(/[^A-Za-z0-9_-]+/g, '_');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { executions = [] } = await aws.sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    const mine = executions
      .filter((e) => e.name?.startsWith(prefix))
      .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
    const [newest] = mine;
    if (mine.length >= count && newest && newest.status !== 'RUNNING') {
      return aws.sfn.send(new DescribeExecutionCommand({ executionArn: newest.executionArn }));
    }
    if (Date.now() > deadline) throw new Error(`no ${count} finished intakes for ${fileName}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('gsm package push on the local stack', () => {
  it('uploads a 40 MB random file and waits until intake has verified it', async () => {
    const { path, sha256 } = await randomFile('demo-2.0.0.tar.gz', 40 * MiB + 321);

    const result = await gsm(['package', 'push', path, '--game', 'demo', '--version', '2.0.0', '--json']);

    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: 'demo@2.0.0', state: 'verified', sha256 });
  });

  it('resumes after an interruption, sending only the missing parts, and ends verified', async () => {
    const { path, sha256 } = await randomFile('demo-2.1.0.tar.gz', 5 * 8 * MiB);
    const args = ['package', 'push', path, '--game', 'demo', '--version', '2.1.0'];

    const first = await gsm(args, { abortAfterParts: 3 });
    const second = await gsm([...args, '--json']);

    expect(first.code).toBe(1);
    expect(second.stderr).toContain('sent 2 parts (3 resumed)');
    expect(JSON.parse(second.stdout)).toMatchObject({ state: 'verified', sha256 });
  });
});

describe('build-pipeline drops under incoming/', () => {
  it('registers and verifies a file whose hash is in its sha256 metadata', async () => {
    const { bytes, sha256 } = await randomFile('m.bin', 3 * MiB);

    await drop('incoming/demo/1.2.0/demo-1.2.0.tar.gz', bytes, { sha256 });

    expect(await settled('demo@1.2.0')).toMatchObject({
      state: 'verified',
      sha256,
      size: 3 * MiB,
      fileName: 'demo-1.2.0.tar.gz',
      s3Key: 'incoming/demo/1.2.0/demo-1.2.0.tar.gz',
    });
  });

  it('refuses other bytes dropped over a verified package, and ignores the same bytes again', async () => {
    const key = 'incoming/demo/1.9.0/demo-1.9.0.tar.gz';
    const first = await randomFile('o1.bin', MiB);
    await drop(key, first.bytes, { sha256: first.sha256 });
    const verified = await settled('demo@1.9.0');
    expect(verified).toMatchObject({
      state: 'verified',
      sha256: first.sha256,
      s3ETag: createHash('md5').update(first.bytes).digest('hex'),
    });

    const other = await randomFile('o2.bin', MiB);
    await drop(key, other.bytes, { sha256: other.sha256 });
    const overwrite = await intakeOutcome('demo-1.9.0.tar.gz', { count: 2 });

    expect(overwrite.status).toBe('FAILED');
    expect(overwrite.error).toBe('IntakeRefused');
    expect(overwrite.cause).toMatch(
      /1\.9\.0\/demo-1\.9\.0\.tar\.gz was overwritten \(ETag [0-9a-f]{32}; package 'demo@1\.9\.0' was verified from ETag [0-9a-f]{32}, and is verified\): a version's bytes never change/,
    );
    expect(await stack.store.packages.get('demo@1.9.0')).toMatchObject({
      state: 'verified',
      sha256: first.sha256,
      s3ETag: verified?.s3ETag,
    });

    await drop(key, first.bytes, { sha256: first.sha256 });
    const same = await intakeOutcome('demo-1.9.0.tar.gz', { count: 3 });
    expect(same.status).toBe('SUCCEEDED');
    expect((await stack.store.packages.get('demo@1.9.0')).updatedAt).toBe(verified?.updatedAt);
  });

  it('waits for a sidecar that lands after its file', async () => {
    const { bytes, sha256 } = await randomFile('s.bin', MiB);

    await drop('incoming/demo/1.3.0/demo-1.3.0.tar.gz', bytes);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await drop('incoming/demo/1.3.0/demo-1.3.0.tar.gz.sha256', `${sha256}  demo-1.3.0.tar.gz\n`);

    expect(await settled('demo@1.3.0')).toMatchObject({ state: 'verified', sha256 });
  });

  it('rejects a file whose declared hash does not match, with the reason', async () => {
    const { bytes } = await randomFile('w.bin', MiB);

    await drop('incoming/demo/1.4.0/demo-1.4.0.tar.gz', bytes, { sha256: 'f'.repeat(64) });

    const pkg = await settled('demo@1.4.0');
    expect(pkg).toMatchObject({
      state: 'rejected',
      reason: expect.stringMatching(/^hash mismatch: declared sha256 f{64}/),
    });
    const shown = await gsm(['package', 'show', 'demo@1.4.0']);
    expect(shown.stdout).toMatch(/reason\s+hash mismatch/);
  });

  it.each([
    { case: 'a version with ..', key: 'incoming/demo/1..5/x.tar.gz', id: 'demo@1..5', cause: /bad version/ },
    {
      case: 'a control character',
      key: 'incoming/demo/1.6.0/x\u0001.tar.gz',
      id: 'demo@1.6.0',
      cause: /bad file name/,
    },
    {
      case: 'an unknown game',
      key: 'incoming/nogame/1.0.0/x.tar.gz',
      id: 'nogame@1.0.0',
      cause: /unknown game/,
    },
    // (s3rver stores keys as files, so a 300-character file name is tested at the API instead.)
    {
      case: 'a 70-character version',
      key: `incoming/demo/${'7'.repeat(70)}/x.tar.gz`,
      id: `demo@${'7'.repeat(70)}`,
      cause: /bad version/,
    },
  ])('refuses $case: the intake fails with the reason and registers nothing', async ({ key, id, cause }) => {
    await drop(key, 'bytes', { sha256: 'a'.repeat(64) });

    const execution = await intakeOutcome(key.split('/').at(-1) ?? '');

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('IntakeRefused');
    expect(execution.cause).toMatch(cause);
    await expect(stack.store.packages.get(id)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('rejects a drop whose hash never arrives, after waiting for a sidecar', {
    timeout: 40_000,
  }, async () => {
    await drop('incoming/demo/1.8.0/demo-1.8.0.tar.gz', 'no hash for me');

    const pkg = await settled('demo@1.8.0', 35_000);

    expect(pkg).toMatchObject({ state: 'rejected', reason: expect.stringContaining('no sha256 metadata') });
  });
});
