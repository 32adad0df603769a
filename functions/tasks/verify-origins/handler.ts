import { z } from 'zod';
import { createAwsClients } from '../../../core/aws.js';
import { serviceConfigFromEnv } from '../../../core/config.js';
import { createLogger } from '../../../core/log.js';
import { createStore } from '../../../core/store/index.js';
import { createPackageObjects } from '../../../core/store/objects.js';
import type { StagingDeps, StagingPlan } from '../plan-staging/plan.js';
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

const Event = z.object({
  plan: z.object({
    packageId: z.string().min(1),
    executionName: z.string().min(1),
    attempt: z.number().int().min(1),
    done: z.boolean(),
    shards: z.array(z.unknown()),
    originIds: z.array(z.string()),
    failures: z.record(z.string(), z.string()),
    verifiedIds: z.array(z.string()),
  }),
  results: z.array(z.unknown()).default([]),
});

const Abandon = z.object({
  abandon: z.object({
    packageId: z.string().min(1),
    executionName: z.string().min(1),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
  }),
});

export const handler = async (event: unknown): Promise<StagingPlan | AbandonStagingResult> => {
  if (typeof event === 'object' && event !== null && 'abandon' in event) {
    return abandonStaging(deps, Abandon.parse(event).abandon);
  }
  return verifyOrigins(deps, Event.parse(event) as { plan: StagingPlan; results: unknown[] });
};
