// Shared plumbing of the multi-process benches (relay-fanout, release): each part runs in its own
// child process (this file's `spawnRole` starts the bench file again with `--role NAME`), talks
// to the parent in JSON lines on stdout and ends on an "exit" line or when its stdin closes.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createDocumentClient, createDynamoDbClient } from '../core/aws.js';
import type { Logger } from '../core/log.js';
import { createStore, ensureTable } from '../core/store/index.js';
import type { Store } from '../core/store/types.js';
import { LOCAL_CREDENTIALS, startDynalite, startDynamoDbLocal } from '../local/dynamodb.js';

export const p99 = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
};

/** One JSON line to the parent. */
export const say = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

/** Waits for the parent's "exit" line (or its end), so a dying parent takes its children along. */
export const untilExit = async (): Promise<void> => {
  for await (const line of createInterface({ input: process.stdin })) if (line === 'exit') return;
};

export const localStore = (endpoint: string, table: string) => {
  const ddb = createDynamoDbClient({
    region: 'us-east-1',
    endpoints: { dynamodb: endpoint },
    credentials: LOCAL_CREDENTIALS,
  });
  return { ddb, store: createStore({ documents: createDocumentClient(ddb), table }) };
};

/** `amazon`: Amazon's DynamoDB Local (Java 17+) instead of dynalite (BENCH_DYNAMODB=amazon). */
export const dynamoDbEngine = (): 'amazon' | 'dynalite' =>
  process.env.BENCH_DYNAMODB === 'amazon' ? 'amazon' : 'dynalite';

/** The "dynamodb" role: DynamoDB alone, so its CPU is neither the relay's nor the API's. */
export const dynamoDbRole = async (table: string): Promise<void> => {
  const dynamo = dynamoDbEngine() === 'amazon' ? await startDynamoDbLocal() : await startDynalite();
  const { ddb } = localStore(dynamo.endpoint, table);
  await ensureTable(ddb, table);
  ddb.destroy();
  say({ ready: { dynamodb: dynamo.endpoint } });
  await untilExit();
  await dynamo.close();
  process.exit(0);
};

export interface Child {
  readonly process: ChildProcess;
  /** The child's next JSON line (other lines are skipped). */
  next<T>(): Promise<T>;
  send(line: string): void;
  /** Asks it to exit and waits until it has. */
  exit(): Promise<void>;
}

/** Runs `benchFile --role role ...args` in a new Node process. BENCH_PROFILE=dir: a CPU profile of it. */
export const spawnRole = (benchFile: string, role: string, ...args: string[]): Child => {
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.BENCH_PROFILE, role)}`]
    : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', benchFile, '--role', role, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    process: child,
    next: async <T>(): Promise<T> => {
      for (;;) {
        const { value, done } = await lines.next();
        if (done) throw new Error(`the ${role} process ended`);
        if (value.startsWith('{')) return JSON.parse(value) as T;
      }
    },
    send: (line) => {
      if (child.exitCode === null && child.stdin?.writable) child.stdin.write(`${line}\n`);
    },
    exit: async () => {
      if (child.exitCode === null && child.stdin?.writable) child.stdin.write('exit\n');
      await exited;
    },
  };
};

/** The role this process was started for (`--role NAME [ARG...]`), or undefined in the parent. */
export const roleOf = (argv = process.argv): { role?: string; args: string[] } => {
  const at = argv.indexOf('--role');
  return at < 0 ? { args: [] } : { role: argv[at + 1], args: argv.slice(at + 2) };
};

export interface BenchAgent {
  readonly hostId: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Real agents (agent/main.ts `startAgent`), each with its own port, data folder and journal, in
 * this process; each is registered as a host. `configOf` gives the rest of each agent's config.
 */
export const startBenchAgents = async (options: {
  readonly store: Store;
  readonly hostIds: readonly string[];
  readonly dir: string;
  readonly masterSecret: string;
  readonly logger: Logger;
  readonly configOf: (hostId: string, index: number) => Record<string, unknown>;
  readonly tags?: Readonly<Record<string, string>>;
}): Promise<BenchAgent[]> => {
  const [{ parseAgentConfig }, { startAgent }] = await Promise.all([
    import('../agent/config.js'),
    import('../agent/main.js'),
  ]);
  const agents: BenchAgent[] = [];
  for (const [index, hostId] of options.hostIds.entries()) {
    const config = await parseAgentConfig(
      {
        hostId,
        listen: { host: '127.0.0.1', port: 0 },
        secrets: { master: options.masterSecret },
        dataDir: join(options.dir, hostId),
        logLevel: 'silent',
        ...options.configOf(hostId, index),
      },
      { env: {} },
    );
    const agent = await startAgent(config, options.logger);
    agents.push({ hostId, port: agent.port, close: () => agent.close() });
    await options.store.hosts.create({
      id: hostId,
      address: '127.0.0.1',
      port: agent.port,
      ...(options.tags ? { tags: { ...options.tags } } : {}),
    });
  }
  return agents;
};
