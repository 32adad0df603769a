import { createAwsClients } from '../../core/aws.js';
import { serviceConfigFromEnv } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { createStore } from '../../core/store/index.js';
import { handleExecutionEnded, type SettleDeps, type SettleOutcome } from './settle.js';

/**
 * Lambda entry point for the EventBridge rule on the release and action machines' executions
 * that end FAILED, TIMED_OUT or ABORTED (locally, the Step Functions emulator's events).
 */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: SettleDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-execution-ended', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<SettleOutcome> => handleExecutionEnded(deps, event);
