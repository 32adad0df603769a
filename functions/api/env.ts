import type { Logger } from '../../core/log.js';
import type { ApiKeyRecord } from '../../core/model/index.js';
import type { Store } from '../../core/store/types.js';

/** What the API needs from the outside world; built once per process and passed in. */
export interface ApiDeps {
  readonly store: Store;
  readonly logger: Logger;
  /** Shown by /v1/health and in the OpenAPI document. */
  readonly version?: string;
}

export interface ApiVariables {
  requestId: string;
  logger: Logger;
  apiKey: ApiKeyRecord;
}

export interface ApiEnv {
  Variables: ApiVariables;
}
