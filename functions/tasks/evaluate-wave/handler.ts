import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import type { EvaluateWaveResult } from '../../../core/model/index.js';
import { createStore } from '../../../core/store/index.js';
import { parseTaskEvent } from '../task-events.js';
import { type EvaluateWaveDeps, evaluateWave } from './evaluate.js';

/** Lambda entry point of the release workflow's EvaluateWave state (function gsm-evaluate-wave). */
const config = serviceConfigFromEnv();
const clients = createAwsClients(config.aws);

const deps: EvaluateWaveDeps = {
  store: createStore({ documents: clients.documents, table: config.table }),
  logger: createLogger('gsm-evaluate-wave', { level: config.logLevel }),
};

export const handler = async (event: unknown): Promise<EvaluateWaveResult> =>
  evaluateWave(deps, parseTaskEvent('gsm-evaluate-wave', event));
