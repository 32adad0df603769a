import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import type { PlanActionResult } from '../../../core/model/index.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { type PlanDeps, planAction } from './plan.js';

/** Lambda entry point of the action workflow's PlanTargets state (function gsm-plan-action). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: PlanDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-plan-action', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<PlanActionResult> =>
  planAction(deps, parseTaskEvent('gsm-plan-action', event));
