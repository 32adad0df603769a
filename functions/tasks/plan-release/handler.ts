import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import type { PlanReleaseResult } from '../../../core/model/index.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { type PlanReleaseDeps, planRelease } from './plan.js';

/** Lambda entry point of the release workflow's PlanWaves state (function gsm-plan-release). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: PlanReleaseDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-plan-release', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<PlanReleaseResult> =>
  planRelease(deps, parseTaskEvent('gsm-plan-release', event));
