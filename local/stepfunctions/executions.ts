import '../polyfills.js';
import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { Logger } from '../../core/log.js';
import { arnOf, checkArn, checkName, type Scope } from './arns.js';
import { TASK_TOKEN_PLACEHOLDER } from './definition.js';
import { SfnError } from './errors.js';
import { dataDetails, History } from './history.js';
import type { LambdaResolver } from './lambda.js';
import type { StateMachineRecord } from './state-machines.js';
import { type ExecutionEndedListener, statusChangeEvent } from './status-events.js';
import { runTask, type TaskRunContext } from './task-runner.js';
import type { TaskRegistry } from './tasks.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
];

export interface ExecutionRecord {
  readonly arn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly input: string;
  readonly startDate: number;
  readonly history: History;
  readonly traceHeader?: string;
  /** The machine as this execution started it: an update later applies to new executions only, as in AWS. */
  readonly machine: ExecutionMachine;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionMachine {
  readonly definition: string;
  readonly roleArn: string;
  /** Milliseconds since the epoch: the machine's last update, or its creation. */
  readonly updateDate: number;
}

export interface ExecutionDeps {
  readonly scope: Scope;
  readonly tasks: TaskRegistry;
  readonly lambdas: LambdaResolver | undefined;
  readonly activityExists: (activityArn: string) => boolean;
  readonly logger: Logger;
  /** EventBridge's "Execution Status Change" for each execution that ends, except at close. */
  readonly onExecutionEnded?: ExecutionEndedListener;
}

type Handlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type Handler = Handlers[string];
type JsonInput = Parameters<StateMachine['run']>[0];

interface Outcome {
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

const TERMINAL_EVENT: Record<Exclude<ExecutionStatus, 'RUNNING'>, string> = {
  SUCCEEDED: 'ExecutionSucceeded',
  FAILED: 'ExecutionFailed',
  TIMED_OUT: 'ExecutionTimedOut',
  ABORTED: 'ExecutionAborted',
};

/** The library's Fail state without Error/Cause carries these placeholders; AWS leaves both out. */
const FAIL_STATE_DEFAULTS = {
  name: 'FailStateError',
  message: 'Execution failed because of a Fail state',
} as const;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const failureOf = (error: unknown): Outcome => {
  const cause = error instanceof ExecutionError ? error.cause : error;
  if (!(cause instanceof Error)) return { error: 'States.Runtime', cause: String(cause) };
  return {
    ...(cause.name && cause.name !== FAIL_STATE_DEFAULTS.name ? { error: cause.name } : {}),
    ...(cause.message && cause.message !== FAIL_STATE_DEFAULTS.message ? { cause: cause.message } : {}),
  };
};

export class Executions {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly aborts = new Map<string, () => void>();
  private closing = false;

  constructor(private readonly deps: ExecutionDeps) {}

  start(
    machine: StateMachineRecord,
    nameValue: unknown,
    inputValue: unknown,
    traceHeader?: unknown,
  ): ExecutionRecord {
    const name = nameValue === undefined || nameValue === null ? randomUUID() : checkName(nameValue);
    if (inputValue !== undefined && inputValue !== null && typeof inputValue !== 'string') {
      throw new SfnError('SerializationException', "'input' must be a string");
    }
    const input = inputValue ?? '{}';
    let parsed: JsonInput;
    try {
      parsed = JSON.parse(input) as JsonInput;
    } catch (error) {
      throw new SfnError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const arn = arnOf(this.deps.scope, 'execution', machine.name, name);
    const existing = this.records.get(arn);
    if (existing) {
      // AWS: the same name and input on a running execution is a retry of the same request.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const record: ExecutionRecord = {
      arn,
      name,
      stateMachineArn: machine.arn,
      input,
      startDate: Date.now(),
      history: new History(),
      machine: {
        definition: machine.definition,
        roleArn: machine.roleArn,
        updateDate: machine.updateDate ?? machine.creationDate,
      },
      status: 'RUNNING',
      ...(typeof traceHeader === 'string' ? { traceHeader } : {}),
    };
    this.records.set(arn, record);
    record.history.add('ExecutionStarted', { input, inputDetails: dataDetails, roleArn: machine.roleArn });
    this.run(record, machine, parsed);
    return record;
  }

  stop(arnValue: unknown, error: unknown, cause: unknown): ExecutionRecord {
    const record = this.get(arnValue);
    if (record.status !== 'RUNNING') return record;
    this.finish(record, 'ABORTED', {
      ...(typeof error === 'string' ? { error } : {}),
      ...(typeof cause === 'string' ? { cause } : {}),
    });
    return record;
  }

  get(arnValue: unknown): ExecutionRecord {
    const arn = checkArn(arnValue, 'execution', 'executionArn');
    const record = this.records.get(arn);
    if (!record) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  /** Newest first, as ListExecutions answers. */
  list(stateMachineArn: string, status?: ExecutionStatus): ExecutionRecord[] {
    return [...this.records.values()]
      .filter((record) => record.stateMachineArn === stateMachineArn && (!status || record.status === status))
      .reverse();
  }

  abortAll(): void {
    // The whole local stack is stopping: nobody is left to act on these executions' ends.
    this.closing = true;
    for (const record of this.records.values()) {
      if (record.status === 'RUNNING')
        this.finish(record, 'ABORTED', { cause: 'the local Step Functions server closed' });
    }
  }

  private run(record: ExecutionRecord, machine: StateMachineRecord, input: JsonInput): void {
    // Captured now: an UpdateStateMachine must not change a running execution.
    const compiled = machine.compiled;
    const context: TaskRunContext = {
      executionArn: record.arn,
      history: record.history,
      tasks: this.deps.tasks,
      lambdas: this.deps.lambdas,
      region: this.deps.scope.region,
      accountId: this.deps.scope.accountId,
      activityExists: this.deps.activityExists,
    };
    const handlers: Handlers = {};
    for (const spec of compiled.tasks.values()) {
      handlers[spec.stateName] = ((taskInput) => runTask(context, spec, taskInput)) as Handler;
    }
    const execution = new StateMachine(compiled.runnable, { validationOptions: { noValidate: true } }).run(
      input,
      {
        overrides: { taskResourceLocalHandlers: handlers },
        context: {
          Execution: { Id: record.arn, Name: record.name, RoleArn: machine.roleArn },
          StateMachine: { Id: machine.arn, Name: machine.name },
          Task: { Token: TASK_TOKEN_PLACEHOLDER },
        },
      },
    );
    this.aborts.set(record.arn, execution.abort);
    void (async () => {
      for await (const event of execution.eventLogs) record.history.addLibraryEvent(event, compiled.maps);
    })().catch((error: unknown) =>
      this.deps.logger.error({ err: error, executionArn: record.arn }, 'event log failed'),
    );
    execution.result.then(
      async (output) => {
        // Let the event-log reader catch up first, so the terminal event is the last one.
        await yieldToEventLoop();
        if (record.status === 'RUNNING')
          this.finish(record, 'SUCCEEDED', { output: JSON.stringify(output ?? null) });
      },
      async (error: unknown) => {
        await yieldToEventLoop();
        if (record.status !== 'RUNNING') return;
        if (error instanceof ExecutionTimeoutError) this.finish(record, 'TIMED_OUT', {});
        else if (error instanceof ExecutionAbortedError) this.finish(record, 'ABORTED', {});
        else this.finish(record, 'FAILED', failureOf(error));
      },
    );
  }

  private finish(
    record: ExecutionRecord,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    outcome: Outcome,
  ): void {
    record.status = status;
    record.stopDate = Date.now();
    if (outcome.output !== undefined) record.output = outcome.output;
    if (outcome.error !== undefined) record.error = outcome.error;
    if (outcome.cause !== undefined) record.cause = outcome.cause;
    const details =
      status === 'SUCCEEDED'
        ? { output: outcome.output, outputDetails: dataDetails }
        : status === 'TIMED_OUT'
          ? { error: 'States.Timeout' }
          : { error: outcome.error, cause: outcome.cause };
    record.history.close(TERMINAL_EVENT[status], details);
    this.deps.tasks.closeExecution(record.arn);
    const abort = this.aborts.get(record.arn);
    this.aborts.delete(record.arn);
    if (status === 'ABORTED') abort?.();
    this.deps.logger.debug({ executionArn: record.arn, status }, 'execution finished');
    if (this.deps.onExecutionEnded && !this.closing) {
      const event = statusChangeEvent(this.deps.scope, record);
      // A listener's failure is its own to report; the execution has ended either way.
      try {
        this.deps.onExecutionEnded(event);
      } catch (error) {
        this.deps.logger.error({ err: error, executionArn: record.arn }, 'execution-ended listener failed');
      }
    }
  }
}
