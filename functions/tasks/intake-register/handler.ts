import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { createStore } from '../../../core/store/index.js';
import { createPackageObjects } from '../../../core/store/objects.js';
import { parseTaskEvent } from '../task-events.js';
import { type RegisterDeps, type RegisterResult, registerOrLoad } from './register.js';

/** Lambda entry point of the intake workflow's Register states (function gsm-intake-register). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: RegisterDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  objects: createPackageObjects({ s3: clients.s3, bucket: config.bucket }),
  logger: createLogger('gsm-intake-register', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<RegisterResult> =>
  registerOrLoad(deps, parseTaskEvent('gsm-intake-register', event));
