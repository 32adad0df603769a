import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { createStore } from '../../../core/store/index.js';
import { createPackageObjects } from '../../../core/store/objects.js';
import { parseTaskEvent } from '../task-events.js';
import { planStaging, type StagingDeps, type StagingPlan } from './plan.js';

/** Lambda entry point of the intake workflow's PlanStaging state (function gsm-plan-staging). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: StagingDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  objects: createPackageObjects({ s3: clients.s3, bucket: config.bucket }),
  logger: createLogger('gsm-plan-staging', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<StagingPlan> =>
  planStaging(deps, parseTaskEvent('gsm-plan-staging', event));
