import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { awaitApproval } from './approval.js';

/** Lambda entry point of the release workflow's AwaitApproval state (function gsm-await-approval). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-await-approval', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<{ releaseId: string; wave: number }> =>
  awaitApproval(deps, parseTaskEvent('gsm-await-approval', event));
