import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CreateActivityCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../agent/config.js';
import { type RunningAgent, startAgent } from '../../agent/main.js';
import { main } from '../../cli/main.js';
import { type AwsClients, createAwsClients } from '../../core/aws.js';
import { createLogger } from '../../core/log.js';
import { type Package, RELAY_ACTIVITY_NAME } from '../../core/model/index.js';
import { type DevStack, startDevStack } from '../../local/dev.js';
import { type Relay, relayConfig, startRelay } from '../../relay/index.js';
import { startNginx, type TestNginx } from '../helpers/nginx.js';
import { MASTER_SECRET } from '../helpers/relay-agents.js';

/**
 * Push → verified → staged to two origins through the relay and real origin-role agents. Origin
 * A is Debian's nginx serving its agent's web root; origin B serves its agent's files with one
 * byte flipped (a corrupt copy), which the origin check catches, stages once more, and then
 * excludes and reports.
 */

const MiB = 1024 * 1024;
const SIZE = 20 * MiB + 7;
let dir: string;
let stack: DevStack;
let aws: AwsClients;
let relay: Relay;
let nginx: TestNginx;
let corrupt: Server;
const agents: RunningAgent[] = [];
let masterSecret = MASTER_SECRET;
/** Origin B flips a byte of what it serves while this is set. */
let corrupting = true;

const originAgent = async (hostId: string, webRoot: string) => {
  const config = await parseAgentConfig(
    {
      hostId,
      listen: { host: '127.0.0.1', port: 0 },
      secrets: { master: masterSecret },
      dataDir: await mkdtemp(join(dir, `${hostId}-data-`)),
      role: 'origin',
      webRoot,
      logLevel: 'silent',
    },
    { env: {} },
  );
  const agent = await startAgent(config, createLogger('agent', { level: 'silent' }).child({ hostId }));
  agents.push(agent);
  return agent;
};

/** Serves files under `root` with the middle byte flipped: a copy gone bad on disk or in transit. */
const startCorruptOrigin = (root: string): Promise<Server> =>
  new Promise((resolve) => {
    const server = createServer(async (req, res) => {
      const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      const body = await readFile(path).catch(() => undefined);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      if (corrupting) {
        const mid = Math.floor(body.length / 2);
        body[mid] = (body[mid] ?? 0) ^ 0xff;
      }
      res.writeHead(200, { 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gsm-staging-'));
  stack = await startDevStack({
    port: 0,
    cwd: dir,
    data: join(dir, 'data'),
    logLevel: 'silent',
    demo: false,
  });
  // When gsm dev runs a relay of its own, it keeps the agents' master secret here: every relay
  // polling the activity must be able to reach the origin agents.
  masterSecret = (
    await readFile(join(dir, 'data', 'agent-master-secret'), 'utf8').catch(() => MASTER_SECRET)
  ).trim();
  await stack.store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 28960 });
  const { endpoints, store } = stack;
  aws = createAwsClients({
    region: endpoints.region,
    credentials: endpoints.credentials,
    endpoints: { dynamodb: endpoints.dynamodb, s3: endpoints.s3, stepfunctions: endpoints.stepfunctions },
    s3ForcePathStyle: true,
  });

  const rootA = await mkdtemp(join(dir, 'www-a-'));
  // nginx's workers run as an unprivileged user: the path to the web root must be traversable.
  await chmod(dir, 0o755);
  await chmod(rootA, 0o755);
  const rootB = await mkdtemp(join(dir, 'www-b-'));
  const agentA = await originAgent('origin-a', rootA);
  const agentB = await originAgent('origin-b', rootB);
  nginx = await startNginx(rootA);
  corrupt = await startCorruptOrigin(rootB);
  await store.hosts.create({ id: 'origin-a', address: '127.0.0.1', port: agentA.port, role: 'origin' });
  await store.hosts.create({ id: 'origin-b', address: '127.0.0.1', port: agentB.port, role: 'origin' });
  await store.origins.create({ id: 'nginx-a', baseUrl: nginx.base, hostId: 'origin-a' });
  await store.origins.create({
    id: 'corrupt-b',
    baseUrl: `http://127.0.0.1:${(corrupt.address() as AddressInfo).port}`,
    hostId: 'origin-b',
  });

  const activity = await aws.sfn.send(new CreateActivityCommand({ name: RELAY_ACTIVITY_NAME }));
  relay = await startRelay(
    relayConfig({
      relayId: 'relay-staging',
      activityArn: activity.activityArn ?? '',
      masterSecret,
      heartbeatMs: 500,
      connectTimeoutMs: 2000,
      shutdownGraceMs: 2000,
      monitor: { enabled: false },
    }),
    { store, sfn: aws.sfn, logger: createLogger('relay', { level: 'silent' }) },
  );
}, 60_000);

afterAll(async () => {
  await relay?.close({ graceMs: 0 });
  await Promise.all(agents.map((agent) => agent.close()));
  await nginx?.close();
  await new Promise((resolve) => corrupt?.close(resolve));
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const settledStaging = async (id: string, timeoutMs = 60_000): Promise<Package> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pkg = await stack.store.packages.get(id);
    if (pkg.state === 'staged' || (pkg.state === 'verified' && pkg.origins.length > 0)) return pkg;
    if (pkg.state === 'rejected' || Date.now() > deadline) throw new Error(`package ${id} is ${pkg.state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('staging a pushed package to the origins', () => {
  it('stages to nginx, checks the hash through it, and excludes the origin serving a corrupt copy', {
    timeout: 90_000,
  }, async () => {
    // Prepare
    const bytes = randomBytes(SIZE);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = join(dir, 'demo-3.0.0.tar.gz');
    await writeFile(file, bytes);
    const stderr = new PassThrough();
    stderr.resume();

    // Act
    const code = await main(
      ['node', 'gsm', 'package', 'push', file, '--game', 'demo', '--version', '3.0.0'],
      {
        env: {},
        cwd: dir,
        streams: { stdout: new PassThrough().resume(), stderr },
      },
    );
    const pkg = await settledStaging('demo@3.0.0');

    // Assess
    expect(code).toBe(0);
    expect(pkg.state).toBe('staged');
    const url = `${nginx.base}/packages/demo/3.0.0/demo-3.0.0.tar.gz`;
    expect(pkg.origins).toEqual([
      { id: 'nginx-a', url, verified: true },
      {
        id: 'corrupt-b',
        url: expect.stringMatching(/\/packages\/demo\/3\.0\.0\/demo-3\.0\.0\.tar\.gz$/),
        verified: false,
        error: expect.stringMatching(/^hash mismatch at http:/),
      },
    ]);
    const served = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(createHash('sha256').update(served).digest('hex')).toBe(sha256);
    const ranged = await fetch(url, { headers: { range: 'bytes=10-19' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(bytes.subarray(10, 20));
    // The corrupt origin was staged twice (the retry), the good one once.
    const jobsB = await stack.store.jobs.listByHost('origin-b');
    const jobsA = await stack.store.jobs.listByHost('origin-a');
    expect(jobsB.items.map((j) => j.action)).toEqual(['stage', 'stage']);
    expect(jobsA.items).toHaveLength(1);
    expect(jobsA.items[0]).toMatchObject({ state: 'succeeded', parentType: 'package' });
  });

  it('stages to both origins when both serve the package intact', { timeout: 90_000 }, async () => {
    corrupting = false;
    const bytes = randomBytes(9 * MiB);
    const file = join(dir, 'demo-3.1.0.tar.gz');
    await writeFile(file, bytes);

    const code = await main(
      ['node', 'gsm', 'package', 'push', file, '--game', 'demo', '--version', '3.1.0'],
      {
        env: {},
        cwd: dir,
        streams: { stdout: new PassThrough().resume(), stderr: new PassThrough().resume() },
      },
    );
    const pkg = await settledStaging('demo@3.1.0');

    expect(code).toBe(0);
    expect(pkg.state).toBe('staged');
    expect(pkg.origins.map((o) => [o.id, o.verified]).sort()).toEqual([
      ['corrupt-b', true],
      ['nginx-a', true],
    ]);
  });
});
