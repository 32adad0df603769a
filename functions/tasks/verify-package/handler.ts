import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { createStore } from '../../../core/store/index.js';
import { createPackageObjects } from '../../../core/store/objects.js';
import { parseTaskEvent } from '../task-events.js';
import { type VerifyDeps, type VerifyResult, verifyPackage } from './verify.js';

/** Lambda entry point of the intake workflow's Verify states (function gsm-verify-package). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: VerifyDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  objects: createPackageObjects({ s3: clients.s3, bucket: config.bucket }),
  logger: createLogger('gsm-verify-package', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<VerifyResult> =>
  verifyPackage(deps, parseTaskEvent('gsm-verify-package', event));
