import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Logger } from '../../core/log.js';
import type { ApiKeyRecord } from '../../core/model/index.js';
import type { PackageObjects } from '../../core/store/objects.js';
import type { Store } from '../../core/store/types.js';
import type { VerifiedKeyCacheOptions } from './middleware/verified-keys.js';

/** What the API needs from the outside world; built once per process and passed in. */
export interface ApiDeps {
  readonly store: Store;
  readonly logger: Logger;
  /** The packages bucket: uploads, removal. */
  readonly objects: PackageObjects;
  /** Shown by /v1/health and in the OpenAPI document. */
  readonly version?: string;
  /**
   * A host's agent secret, derived from the master secret (the relay derives the same), so it is
   * never stored; `POST /v1/hosts` shows it once. Without it no secret is handed out.
   */
  readonly agentSecretFor?: (hostId: string) => string;
  /** Starts workflows; without it (or without a machine) routes that need one answer 503. */
  readonly workflows?: ApiWorkflows;
  /** How long a verified API key is trusted before its record is read again. */
  readonly verifiedKeys?: VerifiedKeyCacheOptions;
}

export interface ApiWorkflows {
  readonly sfn: SFNClient;
  /** State machine ARNs by workflow name (`action`, `release`, ...): GSM_STATE_MACHINE_<NAME>. */
  readonly stateMachines: Readonly<Record<string, string>>;
}

export interface ApiVariables {
  requestId: string;
  logger: Logger;
  apiKey: ApiKeyRecord;
}

export interface ApiEnv {
  Variables: ApiVariables;
}
