import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { actionDefinition } from '../../workflows/action.js';
import { intakeDefinition } from '../../workflows/intake.js';
import { releaseDefinition } from '../../workflows/release.js';
import { parseTaskEvent, TASK_EVENTS, type TaskName } from './task-events.js';

const ACTIVITY = 'arn:aws:states:us-east-1:123456789012:activity:gsm-relay';

/** Every `FunctionName` a definition's Lambda tasks call, Map iterations included. */
const functionNames = (value: unknown, into = new Set<string>()): Set<string> => {
  if (Array.isArray(value)) for (const v of value) functionNames(v, into);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'FunctionName' && typeof v === 'string') into.add(v);
      else functionNames(v, into);
    }
  }
  return into;
};

const failure = (task: TaskName, event: unknown): ValidationError => {
  try {
    parseTaskEvent(task, event);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error(`${task} accepted ${JSON.stringify(event)}`);
};

const TASKS = Object.keys(TASK_EVENTS) as TaskName[];

describe('task events', () => {
  it('has a schema for every function the three workflows call, and none for a function they do not', () => {
    const called = functionNames([
      intakeDefinition({ relayActivityArn: ACTIVITY }),
      actionDefinition({ relayActivityArn: ACTIVITY }),
      releaseDefinition({ relayActivityArn: ACTIVITY }),
    ]);
    const described = new Set(TASKS.map((task) => task.split('/')[0]));
    expect([...described].sort()).toEqual([...called].sort());
  });

  it.each(TASKS)('%s refuses an event that is not an object, naming itself', (task) => {
    for (const event of [null, undefined, 'packageId', 42, []]) {
      const error = failure(task, event);
      expect(error.code).toBe('E_VALIDATION');
      expect(error.message).toMatch(new RegExp(`^${task}: malformed event: `));
      expect(error.issues.length).toBeGreaterThan(0);
    }
  });

  it('names each bad field of a verify event, with its path', () => {
    const error = failure('gsm-verify-package', { executionName: 'x'.repeat(81), failure: 7 });
    expect(error.issues.map((issue) => issue.path).sort()).toEqual(['executionName', 'failure', 'packageId']);
    expect(error.message).toContain('packageId: ');
    expect(error.message).toContain('executionName: ');
  });

  it('refuses a staging plan that lost a field, and a stage attempt that is not a positive integer', () => {
    const plan = {
      packageId: 'cod4@1.2.0',
      executionName: 'intake-1',
      attempt: 1,
      done: false,
      shards: [],
      originIds: ['eu-1'],
      failures: {},
      verifiedIds: [],
    };
    const { verifiedIds: _, ...withoutVerified } = plan;
    const error = failure('gsm-verify-origins', { plan: withoutVerified, results: [] });
    expect(error.issues.map((issue) => issue.path)).toEqual(['plan.verifiedIds']);
    expect(
      failure('gsm-verify-origins', { plan: { ...plan, failures: { 'eu-1': 3 } } }).issues[0]?.path,
    ).toBe('plan.failures.eu-1');
    for (const attempt of [0, 1.5, '2']) {
      expect(
        failure('gsm-plan-staging', { packageId: 'cod4@1.2.0', executionName: 'i', attempt }).issues,
      ).toEqual([expect.objectContaining({ path: 'attempt' })]);
    }
  });

  it('refuses an abandon event without the error it abandons for', () => {
    const error = failure('gsm-verify-origins/abandon', {
      abandon: { packageId: 'cod4@1.2.0', executionName: 'intake-1' },
    });
    expect(error.issues.map((issue) => issue.path)).toEqual(['abandon.error']);
  });

  it('refuses an empty package id', () => {
    expect(failure('gsm-auto-release', { packageId: '' }).issues[0]?.path).toBe('packageId');
    expect(failure('gsm-verify-package', { packageId: '' }).issues[0]?.path).toBe('packageId');
  });

  it('keeps the message short when everything is wrong', () => {
    const error = failure('gsm-verify-origins', { plan: {} });
    expect(error.issues.length).toBeGreaterThan(5);
    expect(error.message).toMatch(/; and \d+ more$/);
  });

  it('passes a well-formed event on, with the defaults applied', () => {
    expect(
      parseTaskEvent('gsm-plan-staging', { packageId: 'cod4@1.2.0', executionName: 'intake-1' }),
    ).toEqual({
      packageId: 'cod4@1.2.0',
      executionName: 'intake-1',
      attempt: 1,
    });
    const plan = {
      packageId: 'cod4@1.2.0',
      executionName: 'intake-1',
      attempt: 2,
      done: true,
      shards: [],
      originIds: [],
      failures: {},
      verifiedIds: [],
    };
    expect(parseTaskEvent('gsm-verify-origins', { plan })).toEqual({ plan, results: [] });
    expect(parseTaskEvent('gsm-verify-package', { packageId: 'cod4@1.2.0' })).toEqual({
      packageId: 'cod4@1.2.0',
    });
  });
});
