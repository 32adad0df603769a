import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { type AutoReleaseResult, autoRelease } from './auto.js';

/** Lambda entry point of the intake workflow's AutoRelease state (function gsm-auto-release). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);
const store = createStore({ documents: clients.documents, table: config.table });
const logger = createLogger('gsm-auto-release', { level: config.logLevel });

export const handler = async (event: unknown): Promise<AutoReleaseResult> =>
  autoRelease(
    // Read per call: `gsm dev` sets it after this module may have loaded.
    { store, sfn: clients.sfn, stateMachineArn: serviceConfigFromEnv().stateMachines.release, logger },
    parseTaskEvent('gsm-auto-release', event),
  );
