import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { PackageObjectChanged } from '../functions/tasks/plan-staging/plan.js';
import { actionDefinition } from './action.js';
import {
  lambdaTask,
  neverRetryPermanent,
  PERMANENT_TASK_ERRORS,
  retryLambdaService,
  type State,
  type StateMachine,
} from './asl.js';
import { intakeDefinition } from './intake.js';
import { releaseDefinition } from './release.js';

const RELAY = 'arn:aws:states:us-east-1:123456789012:activity:gsm-relay';

/** Every state of a machine, with the states of its Map processors. */
const statesOf = (machine: StateMachine): [string, State][] =>
  Object.entries(machine.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...('ItemProcessor' in state ? statesOf(state.ItemProcessor) : []),
  ]);

describe('lambda task retriers', () => {
  it('put the no-retry rule for permanent errors first, ahead of any retrier that would match them', () => {
    const task = lambdaTask('gsm-x', {
      payload: '$',
      Retry: [retryLambdaService, { ErrorEquals: ['States.TaskFailed'], MaxAttempts: 3 }],
    });
    expect(task.Retry).toEqual([
      { ErrorEquals: ['ValidationError', 'PackageObjectChanged'], MaxAttempts: 0 },
      retryLambdaService,
      { ErrorEquals: ['States.TaskFailed'], MaxAttempts: 3 },
    ]);
    expect(lambdaTask('gsm-x', { payload: '$' })).not.toHaveProperty('Retry');
  });

  it('name the permanent errors as the tasks really throw them', () => {
    const changed = new PackageObjectChanged({ id: 'g@1', s3Key: 'k', s3ETag: 'a' }, 'b');
    expect(PERMANENT_TASK_ERRORS).toEqual([new ValidationError('x').name, changed.name]);
  });

  it('lead every retrying lambda task of the three workflows', () => {
    const machines = {
      action: actionDefinition({ relayActivityArn: RELAY }),
      intake: intakeDefinition({ relayActivityArn: RELAY }),
      release: releaseDefinition({ relayActivityArn: RELAY }),
    };
    const lambdaTasks = Object.entries(machines).flatMap(([machine, definition]) =>
      statesOf(definition)
        .filter(([, state]) => state.Type === 'Task' && state.Resource.startsWith('arn:aws:states:::lambda:'))
        .filter(([, state]) => 'Retry' in state)
        .map(([name, state]) => [`${machine}.${name}`, state] as const),
    );
    expect(lambdaTasks.length).toBeGreaterThan(10);
    for (const [name, state] of lambdaTasks) {
      const retry = 'Retry' in state ? state.Retry : undefined;
      expect(retry?.[0], name).toEqual(neverRetryPermanent);
    }
  });
});
