import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { createStore } from '../../../core/store/index.js';
import { createPackageObjects } from '../../../core/store/objects.js';
import type { StagingDeps, StagingPlan } from '../plan-staging/plan.js';
import { parseTaskEvent } from '../task-events.js';
import { type AbandonStagingResult, abandonStaging } from './abandon.js';
import { verifyOrigins } from './origins.js';

/**
 * Lambda entry point of the intake workflow's VerifyOrigins state (function gsm-verify-origins),
 * and of its AbandonStaging state (an event with `abandon`).
 */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: StagingDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  objects: createPackageObjects({ s3: clients.s3, bucket: config.bucket }),
  logger: createLogger('gsm-verify-origins', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<StagingPlan | AbandonStagingResult> => {
  if (typeof event === 'object' && event !== null && 'abandon' in event) {
    return abandonStaging(deps, parseTaskEvent('gsm-verify-origins/abandon', event).abandon);
  }
  return verifyOrigins(
    deps,
    parseTaskEvent('gsm-verify-origins', event) as { plan: StagingPlan; results: unknown[] },
  );
};
