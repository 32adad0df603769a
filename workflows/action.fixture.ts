import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  GetActivityTaskCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { createLogger } from '../core/log.js';
import {
  type HostJobOutcome,
  type HostJobSpec,
  type JobError,
  RELAY_ACTIVITY_NAME,
  RelayTaskInput,
  type RelayTaskOutput,
  STOP_COUNTER,
} from '../core/model/index.js';
import type { Store } from '../core/store/types.js';
import { planAction } from '../functions/tasks/plan-action/plan.js';
import { recordAction } from '../functions/tasks/record-action/record.js';
import { parseTaskEvent } from '../functions/tasks/task-events.js';
import {
  type ExecutionEndedListener,
  type LambdaResolver,
  type StepFunctionsServer,
  startStepFunctions,
} from '../local/stepfunctions/index.js';
import {
  type ActionDefinitionOptions,
  actionDefinition,
  PLAN_ACTION_FUNCTION,
  RECORD_ACTION_FUNCTION,
} from './action.js';
import { activityArn } from './asl.js';

/** The action workflow's task functions, as the emulator resolves them: the real plain functions. */
export const actionLambdas =
  (store: Store): LambdaResolver =>
  async (name) => {
    if (name === PLAN_ACTION_FUNCTION)
      return async (event) => planAction({ store }, parseTaskEvent(PLAN_ACTION_FUNCTION, event));
    if (name === RECORD_ACTION_FUNCTION)
      return async (event) => recordAction({ store }, parseTaskEvent(RECORD_ACTION_FUNCTION, event));
    return undefined;
  };

export interface ActionWorkflowStack {
  readonly server: StepFunctionsServer;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly activityArn: string;
  close(): Promise<void>;
}

/**
 * The local Step Functions emulator with the relay activity and one gsm state machine whose
 * task lambdas resolve to the real task functions over `store`.
 */
export const startWorkflowStack = async (options: {
  readonly name: string;
  readonly lambdas: LambdaResolver;
  readonly definition: (relayActivityArn: string) => unknown;
  /** What an EventBridge rule on execution status changes would be given. */
  readonly onExecutionEnded?: ExecutionEndedListener;
}): Promise<ActionWorkflowStack> => {
  const server = await startStepFunctions({
    lambdas: options.lambdas,
    ...(options.onExecutionEnded ? { onExecutionEnded: options.onExecutionEnded } : {}),
    logger: createLogger('stepfunctions-test', { level: 'silent' }),
    activityPollMs: 1_000,
  });
  const sfn = new SFNClient({
    endpoint: server.endpoint,
    region: server.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const relayActivityArn = activityArn({
    region: server.region,
    accountId: server.accountId,
    name: RELAY_ACTIVITY_NAME,
  });
  await sfn.send(new CreateActivityCommand({ name: RELAY_ACTIVITY_NAME }));
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: options.name,
      definition: JSON.stringify(options.definition(relayActivityArn)),
      roleArn: `arn:aws:iam::${server.accountId}:role/local`,
    }),
  );
  return {
    server,
    sfn,
    stateMachineArn: created.stateMachineArn as string,
    activityArn: relayActivityArn,
    close: async () => {
      sfn.destroy();
      await server.close();
    },
  };
};

/** The local Step Functions emulator with the relay activity and the `gsm-action` machine. */
export const startActionWorkflow = (
  store: Store,
  options: Omit<ActionDefinitionOptions, 'relayActivityArn'> = {},
): Promise<ActionWorkflowStack> =>
  startWorkflowStack({
    name: 'gsm-action',
    lambdas: actionLambdas(store),
    definition: (relayActivityArn) => actionDefinition({ relayActivityArn, ...options }),
  });

/**
 * A stand-in for the relay, for tests of the workflow and the API: it polls the relay activity
 * and settles each job as `decide` says, honouring the contract (shard concurrency, the shared
 * `failed` counter against maxErrors, skipped jobs cancelled), without any agent.
 */

export type FakeOutcome =
  | { readonly state: 'succeeded' }
  | { readonly state: 'failed'; readonly error: JobError };

export interface FakeRelayOptions {
  readonly sfn: SFNClient;
  readonly activityArn: string;
  readonly store: Store;
  readonly decide?: (job: HostJobSpec) => FakeOutcome | 'crash' | Promise<FakeOutcome | 'crash'>;
}

export interface FakeRelay {
  /** Every job run (not skipped), in start order. */
  readonly ran: string[];
  /** The most jobs of one shard running at once. */
  readonly peak: () => number;
  stop(): Promise<void>;
}

const runShard = async (
  store: Store,
  input: RelayTaskInput,
  decide: NonNullable<FakeRelayOptions['decide']>,
  ran: string[],
  track: (delta: number) => void,
): Promise<RelayTaskOutput | 'crash'> => {
  const results: HostJobOutcome[] = [];
  const queue = [...input.jobs];
  let crashed = false;
  const worker = async () => {
    for (let job = queue.shift(); job && !crashed; job = queue.shift()) {
      await store.jobs.create({
        ...job,
        id: job.jobId,
        parentType: input.parentType,
        parentId: input.parentId,
      });
      const { failed = 0, [STOP_COUNTER]: stopped = 0 } = await store.counters.get(input.parentId);
      if (failed > input.maxErrors || stopped > 0) {
        const error =
          stopped > 0
            ? { code: 'E_STOPPED', message: 'not dispatched: stopped by an operator' }
            : { code: 'E_SKIPPED', message: 'not dispatched: maxErrors reached' };
        await store.jobs.transition(job.jobId, 'cancelled', { error });
        results.push({ jobId: job.jobId, hostId: job.hostId, action: job.action, state: 'cancelled', error });
        continue;
      }
      track(1);
      ran.push(job.jobId);
      await store.jobs.transition(job.jobId, 'running');
      const outcome = await decide(job);
      track(-1);
      if (outcome === 'crash') {
        crashed = true;
        return;
      }
      if (outcome.state === 'failed') await store.counters.add(input.parentId, { failed: 1 });
      const stored = await store.jobs.transition(
        job.jobId,
        outcome.state,
        outcome.state === 'failed' ? { error: outcome.error } : {},
      );
      results.push({ jobId: job.jobId, hostId: job.hostId, action: job.action, state: stored.state });
    }
  };
  await Promise.all(Array.from({ length: input.maxConcurrency }, worker));
  if (crashed) return 'crash';
  const count = (state: string) => results.filter((r) => r.state === state).length;
  return {
    parentId: input.parentId,
    results,
    counts: { succeeded: count('succeeded'), failed: count('failed'), skipped: count('cancelled') },
  };
};

export const startFakeRelay = ({
  sfn,
  activityArn,
  store,
  decide = () => ({ state: 'succeeded' }),
}: FakeRelayOptions): FakeRelay => {
  const ran: string[] = [];
  let running = 0;
  let peak = 0;
  const track = (delta: number) => {
    running += delta;
    peak = Math.max(peak, running);
  };
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      const task = await sfn
        .send(new GetActivityTaskCommand({ activityArn, workerName: 'fake-relay' }), {
          abortSignal: abort.signal,
        })
        .catch(() => undefined);
      if (!task?.taskToken || !task.input) continue;
      const taskToken = task.taskToken;
      try {
        const outcome = await runShard(
          store,
          RelayTaskInput.parse(JSON.parse(task.input)),
          decide,
          ran,
          track,
        );
        // A crashed relay simply goes quiet: its task times out on the missed heartbeat.
        if (outcome !== 'crash') {
          await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(outcome) }));
        }
      } catch (error) {
        await sfn.send(new SendTaskFailureCommand({ taskToken, error: 'Relay.Error', cause: String(error) }));
      }
    }
  })();
  return {
    ran,
    peak: () => peak,
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
};
