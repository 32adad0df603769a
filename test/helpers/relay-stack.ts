/**
 * The relay's integration stack: dynalite (a fresh table), the local Step Functions API with one
 * activity and a one-Task state machine (HeartbeatSeconds, retry on timeouts and hand-backs),
 * and relays started in this process against them.
 */
import {
  CreateActivityCommand,
  type DescribeExecutionCommandOutput,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { createLogger } from '../../core/log.js';
import type { HostInput, RelayTaskInput, RelayTaskOutput } from '../../core/model/index.js';
import {
  createMachine,
  startTestStack,
  stopTestStack,
  type TestStack,
  waitForEnd,
} from '../../local/stepfunctions/test-support.js';
import { type Relay, type RelayConfigInput, relayConfig, startRelay } from '../../relay/index.js';
import { startTestDynamoDb, type TestDynamoDb } from './dynamodb.js';
import { MASTER_SECRET } from './relay-agents.js';

export interface RelayStack {
  readonly db: TestDynamoDb;
  readonly sfn: TestStack;
  readonly activityArn: string;
  readonly machineArn: string;
  startRelay(overrides?: Partial<RelayConfigInput>): Promise<Relay>;
  addHost(id: string, port: number, extra?: Partial<HostInput>): Promise<void>;
  /** Starts an execution of the one-task machine; resolves with its ARN. */
  start(input: unknown): Promise<string>;
  /** Starts and waits for the end. */
  run(
    input: unknown,
    timeoutMs?: number,
  ): Promise<{ described: DescribeExecutionCommandOutput; output?: RelayTaskOutput }>;
  wait(
    executionArn: string,
    timeoutMs?: number,
  ): Promise<{ described: DescribeExecutionCommandOutput; output?: RelayTaskOutput }>;
  close(): Promise<void>;
}

let counter = 0;

export const startRelayStack = async (options: { heartbeatSeconds?: number } = {}): Promise<RelayStack> => {
  const db = await startTestDynamoDb('dynalite', 'relay');
  const sfn = await startTestStack();
  const activity = await sfn.client.send(
    new CreateActivityCommand({ name: `gsm-relay-${Date.now()}-${++counter}` }),
  );
  const activityArn = activity.activityArn!;
  const machineArn = await createMachine(sfn.client, {
    StartAt: 'Run',
    States: {
      Run: {
        Type: 'Task',
        Resource: activityArn,
        HeartbeatSeconds: options.heartbeatSeconds ?? 2,
        TimeoutSeconds: 120,
        Retry: [
          {
            ErrorEquals: ['States.HeartbeatTimeout', 'States.Timeout'],
            IntervalSeconds: 1,
            MaxAttempts: 3,
            BackoffRate: 1,
          },
        ],
        End: true,
      },
    },
  });
  const relays = new Set<Relay>();
  const logger = createLogger('relay-test', { level: 'silent' });
  let relayCount = 0;
  const wait = async (executionArn: string, timeoutMs = 20_000) => {
    const described = await waitForEnd(sfn.client, executionArn, timeoutMs);
    return {
      described,
      ...(described.output ? { output: JSON.parse(described.output) as RelayTaskOutput } : {}),
    };
  };
  const start = async (input: unknown) => {
    const out = await sfn.client.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify(input) }),
    );
    return out.executionArn!;
  };
  return {
    db,
    sfn,
    activityArn,
    machineArn,
    startRelay: async (overrides = {}) => {
      const relay = await startRelay(
        relayConfig({
          relayId: `relay-${++relayCount}`,
          activityArn,
          masterSecret: MASTER_SECRET,
          heartbeatMs: 300,
          connectTimeoutMs: 2000,
          shutdownGraceMs: 5000,
          ...overrides,
          monitor: { enabled: false, ...overrides.monitor },
        }),
        { store: db.store, sfn: sfn.client, logger },
      );
      relays.add(relay);
      return relay;
    },
    addHost: async (id, port, extra = {}) => {
      await db.store.hosts.create({ id, address: '127.0.0.1', port, ...extra });
    },
    start,
    run: async (input, timeoutMs) => wait(await start(input), timeoutMs),
    wait,
    close: async () => {
      await Promise.all([...relays].map((relay) => relay.close({ graceMs: 0 })));
      await stopTestStack(sfn);
      await db.close();
    },
  };
};

export const shard = (
  parentId: string,
  jobs: { hostId: string; action: string; params?: Record<string, unknown> }[],
  extra: Partial<RelayTaskInput> = {},
): RelayTaskInput => ({
  parentType: 'action',
  parentId,
  jobs: jobs.map((j) => ({
    jobId: `${parentId}.${j.hostId}.${j.action}`,
    hostId: j.hostId,
    action: j.action,
    params: j.params ?? {},
  })),
  maxConcurrency: 10,
  maxErrors: 100,
  jobTimeoutSec: 5,
  ...extra,
});
