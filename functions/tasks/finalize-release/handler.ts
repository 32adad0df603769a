import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import type { FinalizeReleaseResult } from '../../../core/model/index.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { finalizeRelease } from './finalize.js';

/** Lambda entry point of the release workflow's Finalize state (function gsm-finalize-release). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-finalize-release', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<FinalizeReleaseResult> =>
  finalizeRelease(deps, parseTaskEvent('gsm-finalize-release', event));
