// Release: a 50 MiB package released to BENCH_HOSTS (500) loopback agents, batch 100, maxConcurrency
// 100, through the real release workflow (workflows/release.ts on the local Step Functions emulator
// with the real task handlers), the real relay (in this process, alone) and real agents
// (agent/main.ts `startAgent`) doing the whole deploy: download from an origin (nginx, or the demo's
// static origin without it), SHA-256, extract, stop, switch, start, TCP health check. Each agent
// runs `benchgame` (bench/release-game.ts, from its config's `games[]`), already running 1.0.0.
// Child processes: "dynamodb"; BENCH_AGENT_PROCS (2) "agents" processes; "world" (Step Functions
// + task handlers); "api" (the API alone); "poller" (GET /v1/releases/:id and GET /v1/hosts).
// Reported: wall (execution start → stop) / Σ over waves of the wave's slowest host (goal ≤ 1.3×),
// history events and state transitions per host at two fleet sizes (must not grow per host), the
// p99 of both GETs during the release (goal ≤ 50 ms). A second release (a 1 MiB build to the first
// BENCH_SMALL_HOSTS (100) hosts) gives the second fleet size.
//   node --import tsx bench/release.bench.ts      (BENCH_HOSTS=100 for a quick run; BENCH_RECORD=1 appends to RESULTS.md)
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateActivityCommand, CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createLogger } from '../core/log.js';
import { RELAY_ACTIVITY_NAME, TERMINAL_RELEASE_STATES } from '../core/model/index.js';
import { LOCAL_CREDENTIALS } from '../local/dynamodb.js';
import { relayConfig, startRelay } from '../relay/index.js';
import { createRelayStore } from '../relay/store-clients.js';
import { startNginx } from '../test/helpers/nginx.js';
import {
  dynamoDbRole,
  localStore,
  p99,
  roleOf,
  say,
  spawnRole,
  startBenchAgents,
  untilExit,
} from './processes.js';
import { BENCH_GAME, type BenchPackage, benchGameDefinition, buildBenchPackage } from './release-game.js';
import { measureRelease } from './release-measure.js';
import { pollerRole } from './release-poller.js';
import { describeRelease, recordRelease, releaseTable } from './release-report.js';
import { fmt } from './stats.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 500);
const SMALL_HOSTS = Math.min(HOSTS, Number(process.env.BENCH_SMALL_HOSTS ?? 100));
const SIZE_MB = Number(process.env.BENCH_SIZE_MB ?? 50);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const AGENT_PROCS = Math.max(1, Number(process.env.BENCH_AGENT_PROCS ?? 2));
/** Game ports: below Linux's ephemeral range, so no outgoing connection can hold one. */
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 20000);
const MASTER = 'bench-master-secret-0123456789abcdef';
const TABLE = 'gsm-bench-release';
const TAGS = { bench: 'release' };
const IDLE_POLL_MS = 15_000;
/**
 * The agents' processes (and the games and extractions they start) run at nice BENCH_AGENT_NICE
 * (10): on a real fleet they are 500 other machines, here they share the 2 cores with the API,
 * Step Functions and the relay, and would otherwise stand in line before every API request.
 * BENCH_AGENT_NICE=0 measures everything at one priority.
 */
const AGENT_NICE = Number(process.env.BENCH_AGENT_NICE ?? 10);
const RELEASE_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SEC ?? 1800) * 1000;

const hostIdOf = (i: number) => `rel-${String(i).padStart(3, '0')}`;
const silent = createLogger('bench', { level: 'silent' });

/** Agents `from`..`from+count-1`, each running benchgame 1.0.0 (deployed straight to it) before ready. */
const agentsRole = async (endpoint: string, from: number, count: number, dir: string, base: string) => {
  if (AGENT_NICE) setPriority(AGENT_NICE);
  const { runAgentJob } = await import('../local/demo/agent-job.js');
  const v1 = JSON.parse(base) as BenchPackage;
  const { ddb, store } = localStore(endpoint, TABLE);
  const agents = await startBenchAgents({
    store,
    hostIds: Array.from({ length: count }, (_, i) => hostIdOf(from + i)),
    dir,
    masterSecret: MASTER,
    logger: silent,
    tags: TAGS,
    configOf: (_hostId, i) => ({
      allowRoot: true,
      keepReleases: 2,
      games: [benchGameDefinition],
      instances: [{ name: 'main', game: BENCH_GAME, port: PORT_BASE + from + i }],
    }),
  });
  ddb.destroy();
  const queue = [...agents];
  const setup = async () => {
    for (let agent = queue.shift(); agent; agent = queue.shift()) {
      await runAgentJob({
        port: agent.port,
        hostId: agent.hostId,
        masterSecret: MASTER,
        action: 'deploy',
        params: { urls: [v1.url], sha256: v1.sha256, size: v1.size, version: v1.version, game: BENCH_GAME },
        timeoutMs: 60_000,
      });
    }
  };
  await Promise.all(Array.from({ length: 10 }, setup));
  say({ ready: { agents: agents.length } });
  await untilExit();
  // The games leave with this process (server.py watches its parent).
  await Promise.all(agents.map((a) => a.close()));
  process.exit(0);
};

/** Task states resolve to the handler modules Lambda runs, as in local/dev.ts. */
const RELEASE_LAMBDAS: Record<string, () => Promise<{ handler: (event: never) => Promise<unknown> }>> = {
  'gsm-plan-release': () => import('../functions/tasks/plan-release/handler.js'),
  'gsm-await-approval': () => import('../functions/tasks/await-approval/handler.js'),
  'gsm-evaluate-wave': () => import('../functions/tasks/evaluate-wave/handler.js'),
  'gsm-plan-rollback': () => import('../functions/tasks/plan-rollback/handler.js'),
  'gsm-finalize-release': () => import('../functions/tasks/finalize-release/handler.js'),
};

/** Step Functions and the release task handlers (which read their configuration from the environment). */
const worldRole = async (endpoint: string) => {
  const { startStepFunctions } = await import('../local/stepfunctions/index.js');
  const { releaseDefinition } = await import('../workflows/release.js');
  const sfn = await startStepFunctions({
    logger: silent,
    lambdas: async (name) => {
      const load = RELEASE_LAMBDAS[name];
      if (!load) return undefined;
      const { handler } = await load();
      return (event: unknown) => handler(event as never);
    },
  });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    GSM_TABLE: TABLE,
    GSM_LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const client = new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const { activityArn } = await client.send(new CreateActivityCommand({ name: RELAY_ACTIVITY_NAME }));
  const { stateMachineArn } = await client.send(
    new CreateStateMachineCommand({
      name: 'gsm-release',
      definition: JSON.stringify(releaseDefinition({ relayActivityArn: activityArn as string })),
      roleArn: `arn:aws:iam::${sfn.accountId}:role/gsm-local`,
    }),
  );
  client.destroy();
  say({ ready: { sfn: sfn.endpoint, activityArn, machineArn: stateMachineArn } });
  await untilExit();
  await sfn.close();
  process.exit(0);
};

/** The API alone: the state machine for its release routes, an admin key for the poller. */
const apiRole = async (endpoint: string, sfnEndpoint: string, machineArn: string) => {
  const [{ createApp }, { serve }, { createPackageObjects }, { S3Client }] = await Promise.all([
    import('../functions/api/app.js'),
    import('@hono/node-server'),
    import('../core/store/objects.js'),
    import('@aws-sdk/client-s3'),
  ]);
  const { store } = localStore(endpoint, TABLE);
  const sfn = new SFNClient({ endpoint: sfnEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const objects = createPackageObjects({
    s3: new S3Client({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS }),
    bucket: 'none',
  });
  const app = createApp({
    store,
    objects,
    logger: silent,
    workflows: { sfn, stateMachines: { release: machineArn } },
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const api = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const { key } = await store.apiKeys.create({ name: 'bench', role: 'admin' });

  say({ ready: { api, key } });
  for await (const line of createInterface({ input: process.stdin })) if (line === 'exit') break;
  server.close();
  sfn.destroy();
  process.exit(0);
};

const main = async () => {
  const setupStarted = performance.now();
  const load = loadavg();
  const root = await mkdtemp(join(tmpdir(), 'gsm-bench-release-'));
  await chmod(root, 0o755);
  const children: { exit(): Promise<void> }[] = [];
  const stops: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    for (const child of children.reverse()) await child.exit().catch(() => {});
    await rm(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
  try {
    const originRoot = join(root, 'origin');
    await mkdir(originRoot, { recursive: true });
    const hasNginx = spawnSync('sh', ['-c', 'command -v nginx']).status === 0;
    let originBase: string;
    if (hasNginx) {
      const nginx = await startNginx(originRoot);
      stops.push(() => nginx.close());
      originBase = nginx.base;
    } else {
      const { startStaticOrigin } = await import('../local/demo/origin.js');
      const origin = await startStaticOrigin({ root: originRoot, logger: silent });
      stops.push(() => origin.close());
      originBase = origin.baseUrl;
    }
    const build = (version: string, sizeMb: number) =>
      buildBenchPackage({ workDir: root, originRoot, originBase, version, sizeMb });
    const [v1, v2, v3] = [await build('1.0.0', 0), await build('2.0.0', SIZE_MB), await build('3.0.0', 1)];

    const database = spawnRole(import.meta.filename, 'dynamodb');
    children.push(database);
    const { ready: db } = await database.next<{ ready: { dynamodb: string } }>();
    const world = spawnRole(import.meta.filename, 'world', db.dynamodb);
    children.push(world);
    const agentProcs = Array.from({ length: AGENT_PROCS }, (_, p) => {
      const from = Math.floor((HOSTS * p) / AGENT_PROCS);
      const to = Math.floor((HOSTS * (p + 1)) / AGENT_PROCS);
      const dir = join(root, 'agents');
      return spawnRole(
        import.meta.filename,
        'agents',
        db.dynamodb,
        `${from}`,
        `${to - from}`,
        dir,
        JSON.stringify(v1),
      );
    });
    children.push(...agentProcs);
    const { ready } = await world.next<{ ready: { sfn: string; activityArn: string; machineArn: string } }>();
    const apiChild = spawnRole(import.meta.filename, 'api', db.dynamodb, ready.sfn, ready.machineArn);
    children.push(apiChild);
    const [{ ready: api }] = await Promise.all([
      apiChild.next<{ ready: { api: string; key: string } }>(),
      ...agentProcs.map((child) => child.next()),
    ]);
    const poller = spawnRole(import.meta.filename, 'poller', api.api, api.key);
    children.push(poller);
    await poller.next();

    // The relay's clients as `gsm relay` builds them (relay/main.ts).
    const relayAws = {
      region: 'us-east-1',
      endpoints: { dynamodb: db.dynamodb },
      credentials: LOCAL_CREDENTIALS,
    };
    const maxRequests = relayConfig({
      relayId: 'x',
      activityArn: ready.activityArn,
      masterSecret: MASTER,
    }).dynamoDbMaxRequests;
    const relayStore = createRelayStore(relayAws, { table: TABLE, maxRequests });
    const { store } = relayStore;
    const sfn = new SFNClient({ endpoint: ready.sfn, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    const relay = await startRelay(
      relayConfig({
        relayId: 'bench-relay',
        activityArn: ready.activityArn,
        masterSecret: MASTER,
        heartbeatMs: 5000,
        monitor: { enabled: false },
      }),
      { store, sfn, logger: createLogger('relay', { level: 'warn' }) },
    );
    stops.push(async () => {
      await relay.close({ graceMs: 0 });
      sfn.destroy();
      relayStore.destroy();
    });
    // Staged as the intake would leave it, with the bench origin as its one verified origin.
    for (const pkg of [v2, v3]) {
      const file = pkg.url.slice(pkg.url.lastIndexOf('/') + 1);
      const created = await store.packages.create({
        game: BENCH_GAME,
        version: pkg.version,
        fileName: file,
        size: pkg.size,
        s3Key: `packages/${BENCH_GAME}/${pkg.version}/${file}`,
        state: 'verifying',
      });
      await store.packages.transition(created.id, 'verified', { sha256: pkg.sha256 });
      await store.packages.transition(created.id, 'staging');
      await store.packages.transition(created.id, 'staged', {
        origins: [{ id: 'bench-origin', url: pkg.url, verified: true }],
      });
    }
    console.error(
      `ready in ${fmt(performance.now() - setupStarted)}: ${HOSTS} agents in ${AGENT_PROCS} processes${AGENT_NICE ? ` (nice ${AGENT_NICE})` : ''} running ${BENCH_GAME} 1.0.0, origin ${hasNginx ? 'nginx' : 'node'}`,
    );

    const release = async (pkg: BenchPackage, target: Record<string, unknown>, hosts: number) => {
      const res = await fetch(`${api.api}/v1/releases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          package: { game: BENCH_GAME, version: pkg.version },
          target,
          strategy: {
            canary: 0,
            batch: BATCH,
            maxConcurrency: CONCURRENCY,
            maxErrors: '5%',
            // benchgame has no query protocol, so there are no players to wait for.
            drain: { timeoutSec: 0 },
          },
        }),
      });
      const created = (await res.json()) as { id: string };
      if (res.status !== 201) throw new Error(`release refused: ${res.status} ${JSON.stringify(created)}`);
      poller.send(`poll-start ${created.id}`);
      const deadline = Date.now() + RELEASE_TIMEOUT_MS;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const now = await store.releases.get(created.id);
        if (TERMINAL_RELEASE_STATES.includes(now.state)) break;
        if (Date.now() > deadline) throw new Error(`release ${created.id} still ${now.state}`);
      }
      poller.send('poll-stop');
      const { latencies } = await poller.next<{ latencies: { release: number[]; hosts: number[] } }>();
      return measureRelease({ store, sfn, releaseId: created.id, hosts, latencies });
    };
    const full = await release(v2, { tags: TAGS }, HOSTS);
    console.error(describeRelease(full));
    const small = await release(
      v3,
      { hosts: Array.from({ length: SMALL_HOSTS }, (_, i) => hostIdOf(i)) },
      SMALL_HOSTS,
    );
    console.error(describeRelease(small));
    // The same GETs with no release running (the 500-job release ended): what the machine's load
    // alone costs them.
    poller.send(`poll-start ${full.releaseId}`);
    await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    poller.send('poll-stop');
    const { latencies: idle } = await poller.next<{ latencies: { release: number[]; hosts: number[] } }>();
    const table = releaseTable(full, small, { release: p99(idle.release), hosts: p99(idle.hosts) });
    console.log(table);
    if (process.env.BENCH_RECORD === '1')
      await recordRelease(table, full, load, {
        BENCH_HOSTS: HOSTS,
        BENCH_SIZE_MB: SIZE_MB,
        BENCH_BATCH: BATCH,
        BENCH_CONCURRENCY: CONCURRENCY,
        BENCH_SMALL_HOSTS: SMALL_HOSTS,
        BENCH_AGENT_PROCS: AGENT_PROCS,
        BENCH_AGENT_NICE: AGENT_NICE,
      });
  } finally {
    await cleanUp();
  }
};

const { role, args } = roleOf();
if (role === 'dynamodb') await dynamoDbRole(TABLE);
else if (role === 'agents')
  await agentsRole(args[0] ?? '', Number(args[1]), Number(args[2]), args[3] ?? '', args[4] ?? '{}');
else if (role === 'world') await worldRole(args[0] ?? '');
else if (role === 'api') await apiRole(args[0] ?? '', args[1] ?? '', args[2] ?? '');
else if (role === 'poller') await pollerRole(args[0] ?? '', args[1] ?? '');
else await main();
