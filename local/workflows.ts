import { CreateActivityCommand, CreateStateMachineCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { RELAY_ACTIVITY_NAME } from '../core/model/index.js';
import { actionDefinition } from '../workflows/action.js';
import type { StateMachine } from '../workflows/asl.js';
import { intakeDefinition } from '../workflows/intake.js';
import { releaseDefinition } from '../workflows/release.js';

/** Task states resolve to the same handler modules Lambda runs, by function name. */
const LAMBDA_MODULES: Readonly<
  Record<string, () => Promise<{ handler: (event: never) => Promise<unknown> }>>
> = {
  'gsm-trigger': () => import('../functions/trigger/handler.js'),
  'gsm-plan-action': () => import('../functions/tasks/plan-action/handler.js'),
  'gsm-record-action': () => import('../functions/tasks/record-action/handler.js'),
  'gsm-intake-register': () => import('../functions/tasks/intake-register/handler.js'),
  'gsm-verify-package': () => import('../functions/tasks/verify-package/handler.js'),
  'gsm-plan-staging': () => import('../functions/tasks/plan-staging/handler.js'),
  'gsm-verify-origins': () => import('../functions/tasks/verify-origins/handler.js'),
  'gsm-auto-release': () => import('../functions/tasks/auto-release/handler.js'),
  'gsm-plan-release': () => import('../functions/tasks/plan-release/handler.js'),
  'gsm-await-approval': () => import('../functions/tasks/await-approval/handler.js'),
  'gsm-evaluate-wave': () => import('../functions/tasks/evaluate-wave/handler.js'),
  'gsm-plan-rollback': () => import('../functions/tasks/plan-rollback/handler.js'),
  'gsm-finalize-release': () => import('../functions/tasks/finalize-release/handler.js'),
};

/** What the local Step Functions emulator calls for a Lambda task: the handler module, loaded on first use. */
export const localLambdaHandlers = async (functionName: string) => {
  const load = LAMBDA_MODULES[functionName];
  if (!load) return undefined;
  const { handler } = await load();
  return (event: unknown) => handler(event as never);
};

export interface LocalStateMachines {
  readonly relayActivityArn: string;
  readonly intake: string;
  readonly action: string;
  readonly release: string;
}

/**
 * The relay activity and the three state machines, built from workflows/ as AWS deploys them.
 * CreateActivity is idempotent by name, so the activity's ARN comes from the emulator itself.
 */
export const createLocalStateMachines = async (
  sfn: SFNClient,
  accountId: string,
): Promise<LocalStateMachines> => {
  const relay = await sfn.send(new CreateActivityCommand({ name: RELAY_ACTIVITY_NAME }));
  const relayActivityArn = relay.activityArn as string;
  // The emulator checks no role; AWS would.
  const roleArn = `arn:aws:iam::${accountId}:role/gsm-local`;
  const create = async (name: string, definition: StateMachine) => {
    const created = await sfn.send(
      new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn }),
    );
    return created.stateMachineArn as string;
  };
  return {
    relayActivityArn,
    intake: await create('gsm-intake', intakeDefinition({ relayActivityArn })),
    action: await create('gsm-action', actionDefinition({ relayActivityArn })),
    release: await create('gsm-release', releaseDefinition({ relayActivityArn })),
  };
};
