import { describe, expect, it } from 'vitest';
import { type AslMachine, allStates, type HistoryEventLike, stateStatuses } from './workflow-status.js';

const DEFINITION: AslMachine = {
  StartAt: 'Plan',
  States: {
    Plan: { Type: 'Task', Catch: [{ Next: 'Recover' }], Next: 'Loop' },
    Recover: { Type: 'Pass', Next: 'Done' },
    Loop: { Type: 'Choice' },
    Run: {
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'Shard',
        States: {
          Shard: { Type: 'Task', Catch: [{ Next: 'ShardFailed' }], End: true },
          ShardFailed: { Type: 'Pass', End: true },
        },
      },
      Next: 'Done',
    },
    Side: {
      Type: 'Parallel',
      Branches: [{ StartAt: 'Left', States: { Left: { Type: 'Pass', End: true } } }],
    },
    Done: { Type: 'Succeed' },
    Broken: { Type: 'Fail' },
  },
};

/** Builds a history with ids and previousEventId chained to the event before, as both AWS and the emulator do for sequential runs. */
const history = (...entries: Array<[type: string, name?: string]>): HistoryEventLike[] =>
  entries.map(([type, name], index) => ({
    id: index + 1,
    previousEventId: index,
    type,
    ...(name && type.endsWith('StateEntered') ? { stateEnteredEventDetails: { name } } : {}),
    ...(name && type.endsWith('StateExited') ? { stateExitedEventDetails: { name } } : {}),
  }));

describe('stateStatuses: execution history → per-state status', () => {
  it('lists every state, nested ones included, as not-started before anything ran', () => {
    const statuses = stateStatuses(DEFINITION, []);

    expect(statuses).toEqual({
      Plan: 'not-started',
      Recover: 'not-started',
      Loop: 'not-started',
      Run: 'not-started',
      Shard: 'not-started',
      ShardFailed: 'not-started',
      Side: 'not-started',
      Left: 'not-started',
      Done: 'not-started',
      Broken: 'not-started',
    });
  });

  it('marks an entered state running and an exited one succeeded', () => {
    const events = history(
      ['ExecutionStarted'],
      ['TaskStateEntered', 'Plan'],
      ['LambdaFunctionScheduled'],
      ['LambdaFunctionStarted'],
      ['LambdaFunctionSucceeded'],
      ['TaskStateExited', 'Plan'],
      ['ChoiceStateEntered', 'Loop'],
    );

    const statuses = stateStatuses(DEFINITION, events);

    expect(statuses.Plan).toBe('succeeded');
    expect(statuses.Loop).toBe('running');
    expect(statuses.Done).toBe('not-started');
  });

  it('marks a failed task caught when its catcher is entered with no exit recorded', () => {
    const events = history(
      ['ExecutionStarted'],
      ['TaskStateEntered', 'Plan'],
      ['LambdaFunctionScheduled'],
      ['LambdaFunctionStarted'],
      ['LambdaFunctionFailed'],
      ['PassStateEntered', 'Recover'],
    );

    const statuses = stateStatuses(DEFINITION, events);

    expect(statuses.Plan).toBe('caught');
    expect(statuses.Recover).toBe('running');
  });

  it('marks a failed task caught when it exits after the failure and its catcher is entered (as AWS records it)', () => {
    const events = history(
      ['ExecutionStarted'],
      ['TaskStateEntered', 'Plan'],
      ['LambdaFunctionScheduled'],
      ['LambdaFunctionFailed'],
      ['TaskStateExited', 'Plan'],
      ['PassStateEntered', 'Recover'],
      ['PassStateExited', 'Recover'],
    );

    expect(stateStatuses(DEFINITION, events)).toMatchObject({ Plan: 'caught', Recover: 'succeeded' });
  });

  it('keeps a task running while it retries after a failed attempt, and failed once the execution fails', () => {
    const retrying = history(
      ['ExecutionStarted'],
      ['TaskStateEntered', 'Plan'],
      ['ActivityScheduled'],
      ['ActivityFailed'],
      ['ActivityScheduled'],
    );
    const failedFor = history(
      ['ExecutionStarted'],
      ['TaskStateEntered', 'Plan'],
      ['ActivityScheduled'],
      ['ActivityTimedOut'],
    );
    const executionFailed = [...failedFor, { id: 5, previousEventId: 4, type: 'ExecutionFailed' }];

    expect(stateStatuses(DEFINITION, retrying).Plan).toBe('running');
    expect(stateStatuses(DEFINITION, failedFor).Plan).toBe('failed');
    expect(stateStatuses(DEFINITION, executionFailed).Plan).toBe('failed');
  });

  it('finds the failing task of a Map iteration through previousEventId, not by position', () => {
    // Two iterations interleaved, as AWS records concurrent ones: the second's task fails.
    const events: HistoryEventLike[] = [
      { id: 1, previousEventId: 0, type: 'ExecutionStarted' },
      { id: 2, previousEventId: 1, type: 'MapStateEntered', stateEnteredEventDetails: { name: 'Run' } },
      { id: 3, previousEventId: 2, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Shard' } },
      { id: 4, previousEventId: 2, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Shard' } },
      { id: 5, previousEventId: 3, type: 'ActivityScheduled' },
      { id: 6, previousEventId: 4, type: 'ActivityScheduled' },
      { id: 7, previousEventId: 5, type: 'ActivitySucceeded' },
      { id: 8, previousEventId: 7, type: 'TaskStateExited', stateExitedEventDetails: { name: 'Shard' } },
      { id: 9, previousEventId: 6, type: 'ActivityFailed' },
    ];

    const statuses = stateStatuses(DEFINITION, events);

    // One visit succeeded, the other failed: the state shows the failure.
    expect(statuses.Shard).toBe('failed');
    expect(statuses.Run).toBe('running');
  });

  it('shows the most pressing visit of a state entered many times (the wave loop)', () => {
    const events = history(
      ['ExecutionStarted'],
      ['ChoiceStateEntered', 'Loop'],
      ['ChoiceStateExited', 'Loop'],
      ['MapStateEntered', 'Run'],
      ['MapStateExited', 'Run'],
      ['ChoiceStateEntered', 'Loop'],
      ['ChoiceStateExited', 'Loop'],
      ['MapStateEntered', 'Run'],
    );

    expect(stateStatuses(DEFINITION, events)).toMatchObject({ Loop: 'succeeded', Run: 'running' });
  });

  it('marks a failed Map failed, and every state still open when the execution fails or is stopped', () => {
    const events = history(
      ['ExecutionStarted'],
      ['MapStateEntered', 'Run'],
      ['MapStateStarted'],
      ['MapStateFailed'],
      ['ExecutionFailed'],
    );
    const aborted = history(['ExecutionStarted'], ['ParallelStateEntered', 'Side'], ['ExecutionAborted']);

    expect(stateStatuses(DEFINITION, events).Run).toBe('failed');
    expect(stateStatuses(DEFINITION, aborted).Side).toBe('failed');
  });

  it('marks a Fail state failed and a Succeed state succeeded when the execution ends there', () => {
    const failed = history(['ExecutionStarted'], ['FailStateEntered', 'Broken'], ['ExecutionFailed']);
    const succeeded = history(['ExecutionStarted'], ['SucceedStateEntered', 'Done'], ['ExecutionSucceeded']);

    expect(stateStatuses(DEFINITION, failed).Broken).toBe('failed');
    expect(stateStatuses(DEFINITION, succeeded).Done).toBe('succeeded');
  });

  it('ignores events of states the definition does not name, and events with no type', () => {
    const events: HistoryEventLike[] = [
      { id: 1, type: 'PassStateEntered', stateEnteredEventDetails: { name: 'Ghost' } },
      { id: 2 },
    ];

    const statuses = stateStatuses(DEFINITION, events);

    expect(statuses.Ghost).toBeUndefined();
    expect(Object.values(statuses).every((status) => status === 'not-started')).toBe(true);
  });
});

describe('allStates', () => {
  it('walks Map ItemProcessor, legacy Iterator and Parallel branches', () => {
    const names = [
      ...allStates({
        States: {
          A: { Type: 'Map', Iterator: { States: { B: { Type: 'Pass' } } } },
          C: { Type: 'Parallel', Branches: [{ States: { D: { Type: 'Pass' } } }] },
        },
      }).keys(),
    ];

    expect(names).toEqual(['A', 'B', 'C', 'D']);
  });
});
