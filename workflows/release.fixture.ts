import { CreateActivityCommand, CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createLogger } from '../core/log.js';
import {
  AwaitApprovalEvent,
  EvaluateWaveEvent,
  FinalizeReleaseEvent,
  PlanReleaseEvent,
  PlanRollbackEvent,
  RELAY_ACTIVITY_NAME,
} from '../core/model/index.js';
import type { Store } from '../core/store/types.js';
import { awaitApproval } from '../functions/tasks/await-approval/approval.js';
import { evaluateWave } from '../functions/tasks/evaluate-wave/evaluate.js';
import { finalizeRelease } from '../functions/tasks/finalize-release/finalize.js';
import { planRelease } from '../functions/tasks/plan-release/plan.js';
import { planRollback } from '../functions/tasks/plan-rollback/rollback.js';
import { type LambdaResolver, startStepFunctions } from '../local/stepfunctions/index.js';
import type { ActionWorkflowStack } from './action.fixture.js';
import { activityArn } from './asl.js';
import {
  AWAIT_APPROVAL_FUNCTION,
  EVALUATE_WAVE_FUNCTION,
  FINALIZE_RELEASE_FUNCTION,
  PLAN_RELEASE_FUNCTION,
  PLAN_ROLLBACK_FUNCTION,
  type ReleaseDefinitionOptions,
  releaseDefinition,
} from './release.js';

/** The release workflow's task functions, as the emulator resolves them: the real plain functions. */
export const releaseLambdas =
  (store: Store): LambdaResolver =>
  async (name) => {
    const deps = { store };
    if (name === PLAN_RELEASE_FUNCTION)
      return async (event) => planRelease(deps, PlanReleaseEvent.parse(event));
    if (name === AWAIT_APPROVAL_FUNCTION)
      return async (event) => awaitApproval(deps, AwaitApprovalEvent.parse(event));
    if (name === EVALUATE_WAVE_FUNCTION)
      return async (event) => evaluateWave(deps, EvaluateWaveEvent.parse(event));
    if (name === PLAN_ROLLBACK_FUNCTION)
      return async (event) => planRollback(deps, PlanRollbackEvent.parse(event));
    if (name === FINALIZE_RELEASE_FUNCTION)
      return async (event) => finalizeRelease(deps, FinalizeReleaseEvent.parse(event));
    return undefined;
  };

/** The local Step Functions emulator with the relay activity and the `gsm-release` machine. */
export const startReleaseWorkflow = async (
  store: Store,
  options: Omit<ReleaseDefinitionOptions, 'relayActivityArn'> = {},
): Promise<ActionWorkflowStack> => {
  const server = await startStepFunctions({
    lambdas: releaseLambdas(store),
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
      name: 'gsm-release',
      definition: JSON.stringify(releaseDefinition({ relayActivityArn, ...options })),
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
