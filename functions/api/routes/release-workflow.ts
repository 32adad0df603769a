import {
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { createRoute, z } from '@hono/zod-openapi';
import { executionConsoleUrl } from '../../../core/console-link.js';
import { GsmError } from '../../../core/errors.js';
import type { Store } from '../../../core/store/types.js';
import type { ApiWorkflows } from '../env.js';
import { router } from '../router.js';
import { IdParam, ok, problems } from '../schemas.js';
import { type AslMachine, stateStatuses } from './workflow-status.js';

const StateStatusSchema = z.enum(['not-started', 'running', 'succeeded', 'failed', 'caught']);

export const ReleaseWorkflow = z.object({
  definition: z
    .record(z.string(), z.unknown())
    .openapi({ description: 'the ASL of the execution’s machine' }),
  states: z.record(z.string(), StateStatusSchema),
  executionArn: z.string().optional(),
  consoleUrl: z.string().optional(),
});
export type ReleaseWorkflow = z.infer<typeof ReleaseWorkflow>;

const getWorkflow = createRoute({
  method: 'get',
  path: '/{id}/workflow',
  summary: 'The release’s workflow: its ASL definition and the status of every state',
  request: { params: IdParam },
  responses: { 200: ok(ReleaseWorkflow), ...problems(401, 404) },
});

/** A history has one event per state entered, exited and task step: pages of 1,000 keep calls few. */
const HISTORY_PAGE = 1000;

const historyOf = async (sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> => {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: HISTORY_PAGE,
        includeExecutionData: false,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
};

/** The execution a release's workflow runs: named by the release id (see POST /v1/releases). */
export const releaseExecutionArn = (stateMachineArn: string, releaseId: string): string => {
  const parts = stateMachineArn.split(':');
  // arn:<partition>:states:<region>:<account>:stateMachine:<name>
  if (parts.length !== 7 || parts[5] !== 'stateMachine') {
    throw new GsmError('E_INTERNAL', `not a state machine ARN: ${stateMachineArn}`);
  }
  return [...parts.slice(0, 5), 'execution', parts[6], releaseId].join(':');
};

const parseDefinition = (text: string | undefined): AslMachine & Record<string, unknown> => {
  try {
    return JSON.parse(text ?? '{}') as AslMachine & Record<string, unknown>;
  } catch (error) {
    throw new GsmError('E_INTERNAL', 'the state machine definition is not JSON', { cause: error });
  }
};

export const releaseWorkflowRoutes = (store: Store, workflows?: ApiWorkflows) =>
  router().openapi(getWorkflow, async (c) => {
    const release = await store.releases.get(c.req.valid('param').id);
    const stateMachineArn = workflows?.stateMachines.release;
    if (!workflows || !stateMachineArn) {
      throw new GsmError(
        'E_UNAVAILABLE',
        'the release workflow is not deployed here (GSM_STATE_MACHINE_RELEASE)',
      );
    }
    const executionArn = release.executionArn ?? releaseExecutionArn(stateMachineArn, release.id);
    try {
      const [machine, events] = await Promise.all([
        workflows.sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn })),
        historyOf(workflows.sfn, executionArn),
      ]);
      const definition = parseDefinition(machine.definition);
      const consoleUrl = executionConsoleUrl(executionArn);
      return c.json(
        {
          definition,
          states: stateStatuses(definition, events),
          executionArn,
          ...(consoleUrl ? { consoleUrl } : {}),
        },
        200,
      );
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
      // Not started (yet, or never: a release refused before its workflow began): the machine, nothing run.
      const machine = await workflows.sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
      const definition = parseDefinition(machine.definition);
      return c.json({ definition, states: stateStatuses(definition, []) }, 200);
    }
  });
