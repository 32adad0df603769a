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

// None has landed in workflows/ yet. When one does, e.g.:
//   { name: 'action', definition: actionDefinition, tasks: { 'plan-targets': 'functions/tasks/plan-targets/handler.ts' } }
export const WORKFLOWS: readonly WorkflowSpec[] = [];
