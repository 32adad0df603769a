import '../polyfills.js';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { SfnError } from './errors.js';

/** Largest delay setTimeout takes (2^31-1 ms); the library's timers overflow to 1 ms beyond it. */
export const MAX_TIMER_SECONDS = 2_147_483;

/** Stands in for `$$.Task.Token` (the library has none); each task attempt swaps in a fresh token. */
export const TASK_TOKEN_PLACEHOLDER = '__gsm_local_sfn_task_token__';

export type TaskKind = 'activity' | 'lambda-invoke' | 'lambda-callback' | 'lambda-function';

export interface TaskSpec {
  readonly stateName: string;
  readonly resource: string;
  readonly kind: TaskKind;
  readonly timeoutSeconds?: number;
  readonly timeoutSecondsPath?: string;
  readonly heartbeatSeconds?: number;
  readonly heartbeatSecondsPath?: string;
}

export interface MapSpec {
  readonly inputPath?: string | null;
  readonly itemsPath?: string;
}

export interface CompiledDefinition {
  /** What the library runs: task timeouts and heartbeats taken out (the server enforces them). */
  readonly runnable: StateMachineDefinition;
  readonly tasks: ReadonlyMap<string, TaskSpec>;
  readonly maps: ReadonlyMap<string, MapSpec>;
}

type Json = Record<string, unknown>;

const invalid = (code: string, detail: string): SfnError =>
  new SfnError('InvalidDefinition', `Invalid State Machine Definition: '${code}: ${detail}'`);

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Fields of JSONata, variables and Distributed Map: the library would run them wrongly or not at all. */
const UNSUPPORTED_STATE_FIELDS = ['Assign', 'Arguments', 'Output'] as const;
const UNSUPPORTED_MAP_FIELDS = [
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'Label',
] as const;

const ACTIVITY_ARN = /^arn:aws:states:[a-z0-9-]+:\d{12}:activity:[^:\s]+$/;
const FUNCTION_ARN = /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/;

const classify = (resource: string, at: string): TaskKind => {
  if (resource === 'arn:aws:states:::lambda:invoke') return 'lambda-invoke';
  if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') return 'lambda-callback';
  if (ACTIVITY_ARN.test(resource)) return 'activity';
  if (FUNCTION_ARN.test(resource)) return 'lambda-function';
  throw invalid(
    'SCHEMA_VALIDATION_FAILED',
    `Resource '${resource}' at ${at} is not supported by the local emulator (activities, lambda:invoke[.waitForTaskToken] and function ARNs are)`,
  );
};

const positiveInteger = (value: unknown, field: string, at: string): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 99_999_999) {
    throw invalid('SCHEMA_VALIDATION_FAILED', `${field} at ${at} must be an integer between 1 and 99999999`);
  }
  return value;
};

interface Walk {
  readonly names: Set<string>;
  readonly tasks: Map<string, TaskSpec>;
  readonly maps: Map<string, MapSpec>;
}

const refuseJsonata = (holder: Json, at: string): void => {
  if (holder.QueryLanguage !== undefined && holder.QueryLanguage !== 'JSONPath') {
    throw invalid(
      'SCHEMA_VALIDATION_FAILED',
      `QueryLanguage '${String(holder.QueryLanguage)}' at ${at} is not supported locally`,
    );
  }
};

/** A `States.Timeout` retrier or catcher also matches heartbeat timeouts in AWS; the library matches names only. */
const widenTimeoutMatchers = (state: Json): void => {
  for (const field of ['Retry', 'Catch'] as const) {
    const rules = state[field];
    if (!Array.isArray(rules)) continue;
    for (const rule of rules) {
      if (!isObject(rule) || !Array.isArray(rule.ErrorEquals)) continue;
      const errors = rule.ErrorEquals as unknown[];
      if (errors.includes('States.Timeout') && !errors.includes('States.HeartbeatTimeout')) {
        errors.push('States.HeartbeatTimeout');
      }
    }
  }
};

const compileTask = (name: string, state: Json, at: string, walk: Walk): void => {
  const resource = typeof state.Resource === 'string' ? state.Resource : '';
  const kind = classify(resource, at);
  if (kind === 'lambda-invoke' || kind === 'lambda-callback') {
    const parameters = isObject(state.Parameters) ? state.Parameters : {};
    if (parameters.FunctionName === undefined && parameters['FunctionName.$'] === undefined) {
      throw invalid(
        'SCHEMA_VALIDATION_FAILED',
        `The field 'FunctionName' is required but was missing at ${at}/Parameters`,
      );
    }
  }
  const timeoutSeconds = positiveInteger(state.TimeoutSeconds, 'TimeoutSeconds', at);
  const heartbeatSeconds = positiveInteger(state.HeartbeatSeconds, 'HeartbeatSeconds', at);
  if (timeoutSeconds !== undefined && heartbeatSeconds !== undefined && heartbeatSeconds >= timeoutSeconds) {
    throw invalid(
      'SCHEMA_VALIDATION_FAILED',
      `HeartbeatSeconds must be smaller than TimeoutSeconds at ${at}`,
    );
  }
  walk.tasks.set(name, {
    stateName: name,
    resource,
    kind,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(typeof state.TimeoutSecondsPath === 'string' ? { timeoutSecondsPath: state.TimeoutSecondsPath } : {}),
    ...(heartbeatSeconds !== undefined ? { heartbeatSeconds } : {}),
    ...(typeof state.HeartbeatSecondsPath === 'string'
      ? { heartbeatSecondsPath: state.HeartbeatSecondsPath }
      : {}),
  });
  // The server's own timers decide; the library's must never fire first (its default is 60 s).
  delete state.TimeoutSecondsPath;
  delete state.HeartbeatSeconds;
  delete state.HeartbeatSecondsPath;
  state.TimeoutSeconds = MAX_TIMER_SECONDS;
};

const compileMachine = (machine: Json, at: string, walk: Walk): void => {
  refuseJsonata(machine, at || '/');
  const states = machine.States;
  if (!isObject(states)) throw invalid('SCHEMA_VALIDATION_FAILED', `States is required at ${at || '/'}`);
  for (const [name, state] of Object.entries(states)) {
    const where = `${at}/States/${name}`;
    if (!isObject(state)) throw invalid('SCHEMA_VALIDATION_FAILED', `state ${where} must be an object`);
    // Handlers and history are keyed by state name, as AWS requires names unique machine-wide.
    if (walk.names.has(name))
      throw invalid('SCHEMA_VALIDATION_FAILED', `Duplicate state name '${name}' at ${where}`);
    walk.names.add(name);
    refuseJsonata(state, where);
    for (const field of UNSUPPORTED_STATE_FIELDS) {
      if (field in state)
        throw invalid(
          'SCHEMA_VALIDATION_FAILED',
          `The field '${field}' at ${where} is not supported locally`,
        );
    }
    widenTimeoutMatchers(state);
    if (state.Type === 'Task') compileTask(name, state, where, walk);
    if (state.Type === 'Map') {
      for (const field of UNSUPPORTED_MAP_FIELDS) {
        if (field in state)
          throw invalid(
            'SCHEMA_VALIDATION_FAILED',
            `The field '${field}' at ${where} is not supported locally`,
          );
      }
      const processor = isObject(state.ItemProcessor) ? state.ItemProcessor : state.Iterator;
      if (!isObject(processor))
        throw invalid('SCHEMA_VALIDATION_FAILED', `ItemProcessor is required at ${where}`);
      const config = processor.ProcessorConfig;
      if (isObject(config) && config.Mode !== undefined && config.Mode !== 'INLINE') {
        throw invalid(
          'SCHEMA_VALIDATION_FAILED',
          `ProcessorConfig Mode '${String(config.Mode)}' at ${where} is not supported locally`,
        );
      }
      walk.maps.set(name, {
        ...(state.InputPath !== undefined ? { inputPath: state.InputPath as string | null } : {}),
        ...(typeof state.ItemsPath === 'string' ? { itemsPath: state.ItemsPath } : {}),
      });
      compileMachine(processor, `${where}/ItemProcessor`, walk);
    }
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, index) => {
        if (!isObject(branch))
          throw invalid('SCHEMA_VALIDATION_FAILED', `branch ${index} at ${where} must be an object`);
        compileMachine(branch, `${where}/Branches/${index}`, walk);
      });
    }
  }
};

/** Parses, validates and normalises a definition; anything it cannot run as AWS would is InvalidDefinition. */
export const compileDefinition = (text: string): CompiledDefinition => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid('INVALID_JSON_DESCRIPTION', (error as Error).message);
  }
  if (!isObject(parsed)) throw invalid('SCHEMA_VALIDATION_FAILED', 'the definition must be a JSON object');
  const runnable = structuredClone(parsed);
  const walk: Walk = { names: new Set(), tasks: new Map(), maps: new Map() };
  compileMachine(runnable, '', walk);
  try {
    new StateMachine(parsed as unknown as StateMachineDefinition);
  } catch (error) {
    const detail = (error as Error).message.replace(
      /^State machine definition is invalid, see error\(s\) below:\s*/,
      '',
    );
    throw invalid('SCHEMA_VALIDATION_FAILED', detail.replace(/\s*\n\s*/g, '; '));
  }
  const timeout = positiveInteger(runnable.TimeoutSeconds, 'TimeoutSeconds', '/');
  if (timeout !== undefined) runnable.TimeoutSeconds = Math.min(timeout, MAX_TIMER_SECONDS);
  return { runnable: runnable as unknown as StateMachineDefinition, tasks: walk.tasks, maps: walk.maps };
};
