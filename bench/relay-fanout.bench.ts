// Relay fan-out: action `status` to 500 real agents (the agent code from agent/main.ts, each with
// its own port, data folder and journal) through the relay running alone in this process. The
// rest runs in three child processes, so nothing shares an event loop with what it measures:
// "dynamodb" (dynalite, or DynamoDB Local with BENCH_DYNAMODB=amazon), "agents" (all agents in one
// process), and "world" (the local Step Functions API, the API, the GET /v1/hosts poller and the
// execution driver).
// Ratios, per run: wall(500 hosts, maxConcurrency 100) / (500/100 × wall(1 host)), both the
// execution's own start → stop in the same run (goal ≤ 2×); relay CPU per host job
// (process.cpuUsage of this process / jobs, goal ≤ 2 ms; the execution is started and polled from the
// world process, so this process does nothing but relay); p99 of GET /v1/hosts polled during the
// run (goal ≤ 50 ms). Median of BENCH_RUNS (≥ 3). BENCH_PROFILE=dir: a CPU profile of each child.
// Also each process's CPU over every fleet run. BENCH_UPDATES_CLIENT=0 leaves out the relay's
// cached update client (StoreContext.updates), for an A/B run against it.
import { readFileSync } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CreateActivityCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { createDocumentClient, createDynamoDbClient } from '../core/aws.js';
import { createLogger } from '../core/log.js';
import { createStore } from '../core/store/index.js';
import { LOCAL_CREDENTIALS } from '../local/dynamodb.js';
import { startStepFunctions } from '../local/stepfunctions/index.js';
import { relayConfig, startRelay } from '../relay/index.js';
import {
  dynamoDbEngine,
  dynamoDbRole,
  p99,
  roleOf,
  say,
  spawnRole as spawnBenchRole,
  startBenchAgents,
  localStore as storeAt,
  untilExit,
} from './processes.js';
import { fmt, median } from './stats.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 3));
const MASTER = 'bench-master-secret-0123456789abcdef';
const TABLE = 'gsm-bench-relay';
const DYNAMODB = dynamoDbEngine();
const DESCRIBE_EVERY_MS = 20;

type Ready = { dynamodb: string; sfn: string; activityArn: string; machineArn: string };

/** User + system CPU of a process so far, in ms (Linux /proc; fields 14 and 15, in clock ticks of 10 ms). */
const cpuMsOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

const localStore = (endpoint: string) => storeAt(endpoint, TABLE);
const spawnRole = (role: string, ...args: string[]) => spawnBenchRole(import.meta.filename, role, ...args);

/** Every agent in one process, each with its own port, data folder and journal; registers the hosts. */
const agentsRole = async (endpoint: string): Promise<void> => {
  const { ddb, store } = localStore(endpoint);
  const dir = await mkdtemp(join(tmpdir(), 'gsm-bench-agents-'));
  const agents = await startBenchAgents({
    store,
    hostIds: Array.from({ length: HOSTS }, (_, i) => `bench-${String(i).padStart(3, '0')}`),
    dir,
    masterSecret: MASTER,
    logger: createLogger('bench', { level: 'silent' }),
    configOf: (_hostId, i) => ({ instances: [{ name: 'main', game: 'demo', port: 30000 + i }] }),
  });
  ddb.destroy();
  say({ ready: { agents: agents.length } });
  await untilExit();
  await Promise.all(agents.map((a) => a.close()));
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};

/** The local Step Functions API, the API and its poller, and the execution driver. No agents here. */
const worldRole = async (endpoint: string): Promise<void> => {
  const [{ createApp }, { serve }, { createPackageObjects }, { S3Client }] = await Promise.all([
    import('../functions/api/app.js'),
    import('@hono/node-server'),
    import('../core/store/objects.js'),
    import('@aws-sdk/client-s3'),
  ]);
  const silent = createLogger('bench', { level: 'silent' });
  const { store } = localStore(endpoint);
  const sfn = await startStepFunctions({ logger: silent, activityPollMs: 20_000 });
  const sfnClient = new SFNClient({
    endpoint: sfn.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const activityArn = (await sfnClient.send(new CreateActivityCommand({ name: 'gsm-relay-bench' })))
    .activityArn!;
  const { createMachine } = await import('../local/stepfunctions/test-support.js');
  const machineArn = await createMachine(sfnClient, {
    StartAt: 'Run',
    States: {
      Run: { Type: 'Task', Resource: activityArn, HeartbeatSeconds: 30, TimeoutSeconds: 600, End: true },
    },
  });
  const objects = createPackageObjects({
    s3: new S3Client({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS }),
    bucket: 'none',
  });
  const app = createApp({ store, objects, logger: silent });
  const api = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => api.once('listening', resolve));
  const apiPort = (api.address() as { port: number }).port;
  const { key } = await store.apiKeys.create({ name: 'bench', role: 'viewer' });

  let polling: { stop: boolean; latencies: number[] } | undefined;
  const poll = async (state: { stop: boolean; latencies: number[] }) => {
    while (!state.stop) {
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/hosts?limit=50`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET /v1/hosts answered ${res.status}`);
      state.latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  let pollDone: Promise<void> | undefined;
  say({ ready: { dynamodb: endpoint, sfn: sfn.endpoint, activityArn, machineArn } satisfies Ready });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'poll-start') {
      polling = { stop: false, latencies: [] };
      pollDone = poll(polling);
    } else if (line === 'poll-stop' && polling) {
      polling.stop = true;
      await pollDone;
      say({ latencies: polling.latencies });
    } else if (line.startsWith('run ')) {
      const { executionArn } = await sfnClient.send(
        new StartExecutionCommand({ stateMachineArn: machineArn, input: line.slice(4) }),
      );
      // The wall is the execution's own start → stop as Step Functions records it (ms precision),
      // so this poll can be slow: polling every 2 ms cost this process most of a core and starved
      // the API it also runs.
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, DESCRIBE_EVERY_MS));
        const d = await sfnClient.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status !== 'RUNNING') {
          const out = JSON.parse(d.output ?? '{}') as { counts?: { succeeded: number } };
          say({
            wallMs: (d.stopDate?.getTime() ?? Number.NaN) - (d.startDate?.getTime() ?? Number.NaN),
            status: d.status,
            succeeded: out.counts?.succeeded ?? 0,
          });
          break;
        }
      }
    } else if (line === 'exit') break;
  }
  api.close();
  await sfn.close();
  process.exit(0);
};

const main = async (): Promise<void> => {
  const setupStarted = performance.now();
  const database = spawnRole('dynamodb');
  const { ready: db } = await database.next<{ ready: { dynamodb: string } }>();
  const agents = spawnRole('agents', db.dynamodb);
  const worldChild = spawnRole('world', db.dynamodb);
  const [, { ready }] = await Promise.all([
    agents.next<{ ready: { agents: number } }>(),
    worldChild.next<{ ready: Ready }>(),
  ]);
  const child = worldChild.process;
  const next = worldChild.next;
  console.error(
    `ready in ${fmt(performance.now() - setupStarted)}: ${DYNAMODB}, ${HOSTS} agents, Step Functions + API, each in its own process`,
  );

  const config = relayConfig({
    relayId: 'bench-relay',
    activityArn: ready.activityArn,
    masterSecret: MASTER,
    maxInFlight: 1000,
    heartbeatMs: 10_000,
    monitor: { enabled: false },
    ...(process.env.BENCH_DYNAMODB_MAX_REQUESTS
      ? { dynamoDbMaxRequests: Number(process.env.BENCH_DYNAMODB_MAX_REQUESTS) }
      : {}),
  });
  // The relay's own DynamoDB client, built as `gsm relay` builds it (relay/main.ts).
  const ddb = createDynamoDbClient(
    { region: 'us-east-1', endpoints: { dynamodb: ready.dynamodb }, credentials: LOCAL_CREDENTIALS },
    { maxRequests: config.dynamoDbMaxRequests },
  );
  const updates = createDynamoDbClient(
    { region: 'us-east-1', endpoints: { dynamodb: ready.dynamodb }, credentials: LOCAL_CREDENTIALS },
    { maxRequests: config.dynamoDbMaxRequests, cacheMiddleware: process.env.BENCH_UPDATES_CLIENT !== '0' },
  );
  const store = createStore({
    documents: createDocumentClient(ddb),
    table: TABLE,
    ...(process.env.BENCH_UPDATES_CLIENT === '0' ? {} : { updates }),
  });
  const sfn = new SFNClient({ endpoint: ready.sfn, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  // The relay's own client: it long-polls and heartbeats; executions are driven from the world.
  const relay = await startRelay(config, { store, sfn, logger: createLogger('relay', { level: 'warn' }) });

  let runId = 0;
  const action = async (hosts: number): Promise<{ wallMs: number; cpuMs: number }> => {
    const parentId = `bench-${process.pid}-${++runId}`;
    const jobs = Array.from({ length: hosts }, (_, i) => {
      const hostId = `bench-${String(i).padStart(3, '0')}`;
      return { jobId: `${parentId}.${hostId}.status`, hostId, action: 'status', params: {} };
    });
    const input = {
      parentType: 'action',
      parentId,
      jobs,
      maxConcurrency: CONCURRENCY,
      maxErrors: hosts,
      jobTimeoutSec: 60,
    };
    const cpu = process.cpuUsage();
    child.stdin!.write(`run ${JSON.stringify(input)}\n`);
    const done = await next<{ wallMs: number; status: string; succeeded: number }>();
    if (done.status !== 'SUCCEEDED' || done.succeeded !== hosts) {
      throw new Error(`execution ${done.status} with ${done.succeeded}/${hosts} succeeded`);
    }
    const wallMs = done.wallMs;
    const used = process.cpuUsage(cpu);
    return { wallMs, cpuMs: (used.user + used.system) / 1000 };
  };

  // Warm-up: one full fan-out opens every session once (later runs reuse them) and warms the JIT.
  const warm = await action(HOSTS);
  console.error(`warm-up (includes ${HOSTS} handshakes): ${fmt(warm.wallMs)}`);
  const rows: {
    single: number;
    fleet: number;
    ratio: number;
    cpuPerJob: number;
    p99: number;
    polls: number;
    processCpu: Record<'dynamodb' | 'agents' | 'world' | 'relay', number>;
  }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const singles = [];
    for (let i = 0; i < 5; i++) singles.push((await action(1)).wallMs);
    const single = median(singles);
    child.stdin!.write('poll-start\n');
    // Every process's CPU over the fleet run: on 2 cores the sum, not the relay alone, bounds the wall.
    const pids = {
      dynamodb: database.process.pid,
      agents: agents.process.pid,
      world: child.pid,
      relay: process.pid,
    };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid ?? 0)]));
    const fleet = await action(HOSTS);
    const processCpu = Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid ?? 0) - (cpuBefore[k] ?? 0)]),
    ) as Record<keyof typeof pids, number>;
    child.stdin!.write('poll-stop\n');
    const { latencies } = await next<{ latencies: number[] }>();
    const row = {
      single,
      fleet: fleet.wallMs,
      ratio: fleet.wallMs / ((HOSTS / CONCURRENCY) * single),
      cpuPerJob: fleet.cpuMs / HOSTS,
      p99: p99(latencies),
      polls: latencies.length,
      processCpu,
    };
    rows.push(row);
    console.error(
      `run ${run}: 1 host ${fmt(single)}, ${HOSTS} hosts ${fmt(fleet.wallMs)} → ratio ${row.ratio.toFixed(2)}×, ` +
        `relay CPU ${row.cpuPerJob.toFixed(2)} ms/job, GET /v1/hosts p99 ${row.p99.toFixed(1)} ms (${row.polls} polls); ` +
        `CPU ${Object.entries(processCpu)
          .map(([k, ms]) => `${k} ${fmt(ms)}`)
          .join(', ')}`,
    );
  }
  await relay.close({ graceMs: 0 });
  sfn.destroy();
  ddb.destroy();
  updates.destroy();
  for (const role of [worldChild, agents, database]) {
    role.process.stdin!.write('exit\n');
    await new Promise((resolve) => role.process.once('exit', resolve));
  }

  const m = (pick: (r: (typeof rows)[number]) => number) => median(rows.map(pick));
  const table = [
    `| metric | median of ${RUNS} | runs | goal |`,
    '|---|---|---|---|',
    `| one host, StartExecution → SUCCEEDED | ${fmt(m((r) => r.single))} | ${rows.map((r) => fmt(r.single)).join(', ')} | — |`,
    `| ${HOSTS} hosts, maxConcurrency ${CONCURRENCY} | ${fmt(m((r) => r.fleet))} | ${rows.map((r) => fmt(r.fleet)).join(', ')} | — |`,
    `| wall / (${HOSTS}/${CONCURRENCY} × one host) | ${m((r) => r.ratio).toFixed(2)}× | ${rows.map((r) => `${r.ratio.toFixed(2)}×`).join(', ')} | ≤ 2× |`,
    `| relay CPU per host job | ${m((r) => r.cpuPerJob).toFixed(2)} ms | ${rows.map((r) => r.cpuPerJob.toFixed(2)).join(', ')} | ≤ 2 ms |`,
    `| GET /v1/hosts p99 during the run | ${m((r) => r.p99).toFixed(1)} ms | ${rows.map((r) => r.p99.toFixed(1)).join(', ')} | ≤ 50 ms |`,
    ...(['dynamodb', 'agents', 'world', 'relay'] as const).map(
      (k) =>
        `| CPU of the ${k} process during the run | ${fmt(m((r) => r.processCpu[k]))} | ${rows.map((r) => fmt(r.processCpu[k])).join(', ')} | — |`,
    ),
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_RECORD === '1') {
    const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
    await appendFile(
      join(import.meta.dirname, 'RESULTS.md'),
      `\n## relay-fanout\n\nCommand: \`BENCH_RECORD=1 BENCH_DYNAMODB=${DYNAMODB} BENCH_HOSTS=${HOSTS} BENCH_RUNS=${RUNS} node --import tsx bench/relay-fanout.bench.ts\` (BENCH_HOSTS=${HOSTS}, BENCH_CONCURRENCY=${CONCURRENCY}, BENCH_RUNS=${RUNS})\n` +
        `Date: ${new Date().toISOString()}. Machine: ${cpus().length} vCPU ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}.\n` +
        `This process runs only the relay (\`startRelay\`, monitor off). Three child processes: ${DYNAMODB}; ${HOSTS} real agents (agent/main.ts \`startAgent\`, one demo instance each, own port, data folder and journal); the local Step Functions API + the API + the poller. ` +
        `Action \`status\` (the real agent's status action). Both walls are the execution's startDate → stopDate (DescribeExecution) of a one-Task state machine on the relay activity; ` +
        `"one host" is the median of 5 single-host actions run just before each fleet run. CPU is process.cpuUsage of the relay process over the fleet run / ${HOSTS}. ` +
        `GET /v1/hosts?limit=50 is polled (one request at a time, 20 ms apart) from the world process (which runs no agents) during each fleet run. A warm-up fleet run opens the ${HOSTS} sessions first (${fmt(warm.wallMs)}); measured runs reuse them.\n\n${table}\n`,
    );
  }
};

const { role, args } = roleOf();
const roleArg = args[0] ?? '';
if (role === 'dynamodb') await dynamoDbRole(TABLE);
else if (role === 'agents') await agentsRole(roleArg);
else if (role === 'world') await worldRole(roleArg);
else await main();
