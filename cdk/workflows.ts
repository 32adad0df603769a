import { RELAY_ACTIVITY_NAME } from '../core/model/index.js';
import { actionDefinition, PLAN_ACTION_FUNCTION, RECORD_ACTION_FUNCTION } from '../workflows/action.js';
import { activityArn } from '../workflows/asl.js';
import {
  AUTO_RELEASE_FUNCTION,
  INTAKE_REGISTER_FUNCTION,
  intakeDefinition,
  PLAN_STAGING_FUNCTION,
  VERIFY_ORIGINS_FUNCTION,
  VERIFY_PACKAGE_FUNCTION,
} from '../workflows/intake.js';
import {
  AWAIT_APPROVAL_FUNCTION,
  EVALUATE_WAVE_FUNCTION,
  FINALIZE_RELEASE_FUNCTION,
  PLAN_RELEASE_FUNCTION,
  PLAN_ROLLBACK_FUNCTION,
  releaseDefinition,
} from '../workflows/release.js';
import type { AslDefinition } from './constructs/workflow.js';

/**
 * The workflows the stack deploys, as data. Each entry is the definition workflows/ builds
 * for the local emulator, plus the handler module behind every task function it names.
 * Adding a workflow is adding an entry here; the stack does the rest (functions, state
 * machine, GSM_STATE_MACHINE_<NAME> on the API, an alarm).
 */
export interface WorkflowSpec {
  /** `release` → GSM_STATE_MACHINE_RELEASE; `intake` is also the machine the S3 trigger starts. */
  readonly name: string;
  readonly definition: () => AslDefinition;
  /** Function name as the definition names it → handler module, relative to the repository root. */
  readonly tasks: Readonly<Record<string, string>>;
}

/**
 * A placeholder: the definitions are built with local dev's activity name, and the stack
 * hands the Workflow construct its own relay activity (`<stack name>-relay`) for that name,
 * so each stack's state machines send work to that stack's relays only.
 */
const relayActivityArn = activityArn({
  region: 'us-east-1',
  accountId: '123456789012',
  name: RELAY_ACTIVITY_NAME,
});

export const WORKFLOWS: readonly WorkflowSpec[] = [
  {
    name: 'action',
    definition: () => actionDefinition({ relayActivityArn }),
    tasks: {
      [PLAN_ACTION_FUNCTION]: 'functions/tasks/plan-action/handler.ts',
      [RECORD_ACTION_FUNCTION]: 'functions/tasks/record-action/handler.ts',
    },
  },
  {
    name: 'release',
    definition: () => releaseDefinition({ relayActivityArn }),
    tasks: {
      [PLAN_RELEASE_FUNCTION]: 'functions/tasks/plan-release/handler.ts',
      [AWAIT_APPROVAL_FUNCTION]: 'functions/tasks/await-approval/handler.ts',
      [EVALUATE_WAVE_FUNCTION]: 'functions/tasks/evaluate-wave/handler.ts',
      [PLAN_ROLLBACK_FUNCTION]: 'functions/tasks/plan-rollback/handler.ts',
      [FINALIZE_RELEASE_FUNCTION]: 'functions/tasks/finalize-release/handler.ts',
    },
  },
  {
    name: 'intake',
    definition: () => intakeDefinition({ relayActivityArn }),
    tasks: {
      [INTAKE_REGISTER_FUNCTION]: 'functions/tasks/intake-register/handler.ts',
      [VERIFY_PACKAGE_FUNCTION]: 'functions/tasks/verify-package/handler.ts',
      [PLAN_STAGING_FUNCTION]: 'functions/tasks/plan-staging/handler.ts',
      [VERIFY_ORIGINS_FUNCTION]: 'functions/tasks/verify-origins/handler.ts',
      // Starts the release machine: cdk/stacks/gsm-stack.ts gives it that machine's ARN and right.
      [AUTO_RELEASE_FUNCTION]: 'functions/tasks/auto-release/handler.ts',
    },
  },
];
