import { type AwsConfig, createDocumentClient, createDynamoDbClient } from '../core/aws.js';
import { createStore } from '../core/store/index.js';
import type { Store } from '../core/store/types.js';

/**
 * The relay's own store: at most `maxRequests` DynamoDB requests in flight, so a fan-out's
 * burst of job writes waits in the relay instead of filling the table's queue (an emulator's
 * single thread, or a provisioned table) ahead of the API's reads. The job writes go through
 * a second client whose middleware is resolved once (see StoreContext.updates).
 */
export const createRelayStore = (
  aws: AwsConfig,
  { table, maxRequests }: { readonly table: string; readonly maxRequests: number },
): { store: Store; destroy(): void } => {
  const dynamodb = createDynamoDbClient(aws, { maxRequests });
  const updates = createDynamoDbClient(aws, { maxRequests, cacheMiddleware: true });
  return {
    store: createStore({ documents: createDocumentClient(dynamodb), table, updates }),
    destroy() {
      dynamodb.destroy();
      updates.destroy();
    },
  };
};
