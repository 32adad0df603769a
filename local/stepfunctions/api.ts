import type { Scope } from './arns.js';
import { checkArn } from './arns.js';
import { SfnError } from './errors.js';
import {
  EXECUTION_STATUSES,
  type ExecutionRecord,
  type ExecutionStatus,
  type Executions,
} from './executions.js';
import { toWire } from './history.js';
import { paginate } from './paging.js';
import type { Registry, StateMachineRecord } from './state-machines.js';
import type { TaskRegistry } from './tasks.js';

/** What one API call sees: its JSON body and a signal that fires when the client goes away. */
export type Operation = (body: Record<string, unknown>, signal: AbortSignal) => Promise<unknown> | unknown;

export interface ApiDeps {
  readonly scope: Scope;
  readonly registry: Registry;
  readonly executions: Executions;
  readonly tasks: TaskRegistry;
  readonly activityPollMs: number;
}

/** awsJson1_0 sends timestamps as epoch seconds. */
const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

const MAX_PAYLOAD = 262_144;

const requireString = (body: Record<string, unknown>, field: string): string => {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
};

const optionalString = (body: Record<string, unknown>, field: string, max: number): string | undefined => {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw new SfnError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
  return value;
};

const describeMachine = (record: StateMachineRecord) => ({
  stateMachineArn: record.arn,
  name: record.name,
  status: 'ACTIVE',
  definition: record.definition,
  roleArn: record.roleArn,
  type: record.type,
  creationDate: seconds(record.creationDate),
  loggingConfiguration: { level: 'OFF', includeExecutionData: false },
  tracingConfiguration: { enabled: false },
});

const listItem = (record: ExecutionRecord) => ({
  executionArn: record.arn,
  stateMachineArn: record.stateMachineArn,
  name: record.name,
  status: record.status,
  startDate: seconds(record.startDate),
  stopDate: seconds(record.stopDate),
});

export const createOperations = (deps: ApiDeps): Record<string, Operation> => {
  const { registry, executions, tasks } = deps;
  return {
    CreateStateMachine: (body) => {
      const record = registry.createStateMachine(body);
      return { stateMachineArn: record.arn, creationDate: seconds(record.creationDate) };
    },
    UpdateStateMachine: (body) => {
      const record = registry.updateStateMachine(body.stateMachineArn, body.definition, body.roleArn);
      return { updateDate: seconds(record.updateDate) };
    },
    DescribeStateMachine: (body) => describeMachine(registry.stateMachine(body.stateMachineArn)),
    DeleteStateMachine: (body) => {
      registry.deleteStateMachine(body.stateMachineArn);
      return {};
    },
    ListStateMachines: (body) => {
      const page = paginate(
        registry.listStateMachines(),
        (record) => record.arn,
        body.maxResults,
        body.nextToken,
      );
      return {
        stateMachines: page.items.map((record) => ({
          stateMachineArn: record.arn,
          name: record.name,
          type: record.type,
          creationDate: seconds(record.creationDate),
        })),
        nextToken: page.nextToken,
      };
    },
    DescribeStateMachineForExecution: (body) => {
      const { stateMachineArn, machine } = executions.get(body.executionArn);
      // AWS's answer: the definition the execution ran, even if the machine changed or went since.
      return {
        stateMachineArn,
        name: stateMachineArn.split(':').at(-1),
        definition: machine.definition,
        roleArn: machine.roleArn,
        updateDate: seconds(machine.updateDate),
        loggingConfiguration: { level: 'OFF', includeExecutionData: false },
        tracingConfiguration: { enabled: false },
      };
    },
    StartExecution: (body) => {
      const machine = registry.stateMachine(body.stateMachineArn);
      const input = optionalString(body, 'input', MAX_PAYLOAD);
      const record = executions.start(machine, body.name, input, body.traceHeader);
      return { executionArn: record.arn, startDate: seconds(record.startDate) };
    },
    DescribeExecution: (body) => {
      const record = executions.get(body.executionArn);
      return {
        ...listItem(record),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
        error: record.error,
        cause: record.cause,
        traceHeader: record.traceHeader,
      };
    },
    ListExecutions: (body) => {
      const machineArn = checkArn(body.stateMachineArn, 'stateMachine', 'stateMachineArn');
      registry.stateMachine(machineArn);
      const filter = body.statusFilter;
      if (filter !== undefined && !EXECUTION_STATUSES.includes(filter as ExecutionStatus)) {
        throw new SfnError(
          'ValidationException',
          `1 validation error detected: Value '${String(filter)}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(', ')}]`,
        );
      }
      const records = executions.list(machineArn, filter as ExecutionStatus | undefined);
      const page = paginate(records, (record) => record.arn, body.maxResults, body.nextToken);
      return { executions: page.items.map(listItem), nextToken: page.nextToken };
    },
    StopExecution: (body) => {
      optionalString(body, 'error', 256);
      optionalString(body, 'cause', 32_768);
      const record = executions.stop(body.executionArn, body.error, body.cause);
      return { stopDate: seconds(record.stopDate) };
    },
    GetExecutionHistory: (body) => {
      const record = executions.get(body.executionArn);
      const events = record.history.list();
      const ordered = body.reverseOrder === true ? [...events].reverse() : events;
      const page = paginate(ordered, (event) => String(event.id), body.maxResults, body.nextToken);
      const includeData = body.includeExecutionData !== false;
      return { events: page.items.map((event) => toWire(event, includeData)), nextToken: page.nextToken };
    },
    CreateActivity: (body) => {
      const record = registry.createActivity(body.name);
      return { activityArn: record.arn, creationDate: seconds(record.creationDate) };
    },
    DescribeActivity: (body) => {
      const record = registry.activity(body.activityArn);
      return { activityArn: record.arn, name: record.name, creationDate: seconds(record.creationDate) };
    },
    DeleteActivity: (body) => {
      registry.deleteActivity(body.activityArn);
      return {};
    },
    ListActivities: (body) => {
      const page = paginate(
        registry.listActivities(),
        (record) => record.arn,
        body.maxResults,
        body.nextToken,
      );
      return {
        activities: page.items.map((record) => ({
          activityArn: record.arn,
          name: record.name,
          creationDate: seconds(record.creationDate),
        })),
        nextToken: page.nextToken,
      };
    },
    GetActivityTask: async (body, signal) => {
      const activity = registry.activity(body.activityArn);
      const workerName = optionalString(body, 'workerName', 80);
      const task = await tasks.poll(activity.arn, workerName, deps.activityPollMs, signal);
      return task ?? {};
    },
    SendTaskSuccess: (body) => {
      const token = requireString(body, 'taskToken');
      const output = requireString(body, 'output');
      try {
        JSON.parse(output);
      } catch (error) {
        throw new SfnError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
      }
      tasks.succeed(token, output);
      return {};
    },
    SendTaskFailure: (body) => {
      const token = requireString(body, 'taskToken');
      tasks.fail(token, optionalString(body, 'error', 256), optionalString(body, 'cause', 32_768));
      return {};
    },
    SendTaskHeartbeat: (body) => {
      tasks.heartbeat(requireString(body, 'taskToken'));
      return {};
    },
  };
};
