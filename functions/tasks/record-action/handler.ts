import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import type { RecordActionResult } from '../../../core/model/index.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { type RecordDeps, recordAction } from './record.js';

/** Lambda entry point of the action workflow's RecordResults state (function gsm-record-action). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: RecordDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-record-action', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<RecordActionResult> =>
  recordAction(deps, parseTaskEvent('gsm-record-action', event));
