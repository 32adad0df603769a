import type { Store } from '../core/store/types.js';
import { awaitApproval } from '../functions/tasks/await-approval/approval.js';
import { evaluateWave } from '../functions/tasks/evaluate-wave/evaluate.js';
import { finalizeRelease } from '../functions/tasks/finalize-release/finalize.js';
import { planRelease } from '../functions/tasks/plan-release/plan.js';
import { planRollback } from '../functions/tasks/plan-rollback/rollback.js';
import { parseTaskEvent } from '../functions/tasks/task-events.js';
import type { LambdaResolver } from '../local/stepfunctions/index.js';
import { type ActionWorkflowStack, startWorkflowStack } from './action.fixture.js';
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
      return async (event) => planRelease(deps, parseTaskEvent(PLAN_RELEASE_FUNCTION, event));
    if (name === AWAIT_APPROVAL_FUNCTION)
      return async (event) => awaitApproval(deps, parseTaskEvent(AWAIT_APPROVAL_FUNCTION, event));
    if (name === EVALUATE_WAVE_FUNCTION)
      return async (event) => evaluateWave(deps, parseTaskEvent(EVALUATE_WAVE_FUNCTION, event));
    if (name === PLAN_ROLLBACK_FUNCTION)
      return async (event) => planRollback(deps, parseTaskEvent(PLAN_ROLLBACK_FUNCTION, event));
    if (name === FINALIZE_RELEASE_FUNCTION)
      return async (event) => finalizeRelease(deps, parseTaskEvent(FINALIZE_RELEASE_FUNCTION, event));
    return undefined;
  };

/** The local Step Functions emulator with the relay activity and the `gsm-release` machine. */
export const startReleaseWorkflow = (
  store: Store,
  options: Omit<ReleaseDefinitionOptions, 'relayActivityArn'> = {},
): Promise<ActionWorkflowStack> =>
  startWorkflowStack({
    name: 'gsm-release',
    lambdas: releaseLambdas(store),
    definition: (relayActivityArn) => releaseDefinition({ relayActivityArn, ...options }),
  });
