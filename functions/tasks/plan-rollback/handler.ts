import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import type { PlanRollbackResult } from '../../../core/model/index.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { planRollback } from './rollback.js';

/** Lambda entry point of the release workflow's PlanRollback state (function gsm-plan-rollback). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-plan-rollback', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<PlanRollbackResult> =>
  planRollback(deps, parseTaskEvent('gsm-plan-rollback', event));
