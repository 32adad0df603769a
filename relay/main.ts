import { createSfnClient } from '../core/aws.js';
import { createLogger } from '../core/log.js';
import { relayConfigFromEnv } from './config.js';
import { startRelay } from './relay.js';
import { createRelayStore } from './store-clients.js';

/**
 * `gsm relay`: runs until SIGTERM or SIGINT. Then it stops polling at once, gives running
 * shards the grace period to finish, and hands back what is left by letting its heartbeat
 * lapse, so the workflow's HeartbeatTimeout retry re-attaches to the agents' running jobs. A
 * second signal skips the grace.
 */
export const runRelay = async (): Promise<number> => {
  const config = relayConfigFromEnv();
  const logger = createLogger('relay', { level: config.service.logLevel });
  const { store, destroy } = createRelayStore(config.service.aws, {
    table: config.service.table,
    maxRequests: config.dynamoDbMaxRequests,
  });
  const sfn = createSfnClient(config.service.aws);
  const relay = await startRelay(config, { store, sfn, logger });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  logger.info({ signal, graceMs: config.shutdownGraceMs }, 'stopping');
  const hurry = () => {
    logger.warn('second signal: handing back running shards now');
    void relay.close({ graceMs: 0 });
  };
  process.once('SIGINT', hurry);
  process.once('SIGTERM', hurry);
  await relay.close();
  sfn.destroy();
  destroy();
  return 0;
};
