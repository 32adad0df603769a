import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ConfigError, GsmError, ValidationError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { type IntakeInput, S3_EVENT_SOURCE, S3ObjectCreatedEvent } from '../../core/model/events.js';
import { classifyObjectKey, decodeEventKey, INCOMING_PREFIX } from '../../core/model/s3-keys.js';

/**
 * S3 Object Created (as EventBridge delivers it) → the intake state machine.
 * At-least-once delivery is absorbed by the execution name: it is derived from the bucket,
 * the key and the event's sequencer, so a redelivered event names the same execution and
 * Step Functions starts nothing new.
 */

export interface TriggerDeps {
  readonly sfn: SFNClient;
  /** Unset: nothing to start (e.g. a stack without the intake workflow); events are logged. */
  readonly intakeStateMachineArn?: string;
  readonly uploadPrefix: string;
  readonly incomingPrefix?: string;
  readonly logger: Logger;
}

export type TriggerSkipReason =
  | 'invalid-event'
  | 'not-object-created'
  | 'ignored-key'
  | 'sha256-sidecar'
  | 'no-state-machine'
  | 'duplicate';

export type TriggerResult =
  | {
      readonly started: true;
      readonly executionArn: string;
      readonly executionName: string;
      readonly input: IntakeInput;
    }
  | {
      readonly started: false;
      readonly reason: TriggerSkipReason;
      readonly executionName?: string;
      readonly input?: IntakeInput;
    };

/** Step Functions allows 80 characters for a name; these are safe everywhere. */
const NAME_MAX = 80;
const NAME_HASH_LENGTH = 32;

/** Parses an EventBridge S3 Object Created event; anything else is a ValidationError. */
export const parseObjectCreatedEvent = (event: unknown): S3ObjectCreatedEvent => {
  const parsed = S3ObjectCreatedEvent.safeParse(event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));
    throw new ValidationError('not an EventBridge S3 Object Created event', issues);
  }
  return parsed.data;
};

/**
 * Deterministic and readable: the file name (characters outside [A-Za-z0-9_-] become `_`)
 * and 128 bits of SHA-256 over bucket, key and sequencer.
 */
export const executionNameFor = (bucket: string, key: string, sequencer: string): string => {
  const hash = createHash('sha256')
    .update(`${bucket}\n${key}\n${sequencer}`)
    .digest('hex')
    .slice(0, NAME_HASH_LENGTH);
  const base = key.split('/').at(-1) ?? '';
  const slug = base
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, NAME_MAX - NAME_HASH_LENGTH - 1);
  return slug ? `${slug}-${hash}` : hash;
};

/** What the intake workflow gets for an object, or why the object starts nothing. */
export const intakeInputFor = (
  event: S3ObjectCreatedEvent,
  prefixes: { readonly upload: string; readonly incoming?: string },
): { input: IntakeInput } | { skip: 'ignored-key' | 'sha256-sidecar'; key: string } => {
  const { bucket, object } = event.detail;
  let key: string;
  try {
    key = decodeEventKey(object.key);
  } catch (error) {
    throw new ValidationError(
      'the object key is not validly URL-encoded',
      [{ path: 'detail.object.key', message: 'malformed percent-encoding' }],
      { cause: error },
    );
  }
  const base = {
    bucket: bucket.name,
    key,
    size: object.size,
    etag: object.etag,
    sequencer: object.sequencer,
  };
  const kind = classifyObjectKey(key, {
    upload: prefixes.upload,
    incoming: prefixes.incoming ?? INCOMING_PREFIX,
  });
  switch (kind.kind) {
    case 'upload':
      return { input: { ...base, kind: 'upload', packageId: kind.packageId, fileName: kind.fileName } };
    case 'incoming':
      return {
        input: { ...base, kind: 'incoming', game: kind.game, version: kind.version, fileName: kind.fileName },
      };
    case 'sidecar':
      return { skip: 'sha256-sidecar', key };
    default:
      return { skip: 'ignored-key', key };
  }
};

const isObjectEventOfAnotherType = (event: unknown): boolean => {
  const e = event as { source?: unknown; 'detail-type'?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.source === S3_EVENT_SOURCE &&
    typeof e['detail-type'] === 'string' &&
    e['detail-type'] !== 'Object Created'
  );
};

/**
 * Never throws for a bad event (retrying cannot fix it: it is logged and dropped). Throws
 * when Step Functions fails, so that Lambda and EventBridge retry: ConfigError when the
 * state machine is missing or wrong, GsmError E_UNAVAILABLE otherwise.
 */
export const handleObjectCreated = async (event: unknown, deps: TriggerDeps): Promise<TriggerResult> => {
  const { logger } = deps;
  if (isObjectEventOfAnotherType(event)) {
    logger.debug(
      { detailType: (event as Record<string, unknown>)['detail-type'] },
      'not an Object Created event',
    );
    return { started: false, reason: 'not-object-created' };
  }
  let created: S3ObjectCreatedEvent;
  let classified: ReturnType<typeof intakeInputFor>;
  try {
    created = parseObjectCreatedEvent(event);
    classified = intakeInputFor(created, { upload: deps.uploadPrefix, incoming: deps.incomingPrefix });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    logger.error({ err: error, issues: error.issues }, 'invalid S3 event dropped');
    return { started: false, reason: 'invalid-event' };
  }
  const log = logger.child({ eventId: created.id, bucket: created.detail.bucket.name });

  if ('skip' in classified) {
    if (classified.skip === 'sha256-sidecar') {
      log.info({ key: classified.key }, 'SHA-256 sidecar stored; intake of its file reads it');
    } else {
      log.info({ key: classified.key }, 'object outside uploads/ and incoming/ layouts; ignored');
    }
    return { started: false, reason: classified.skip };
  }

  const { input } = classified;
  const executionName = executionNameFor(input.bucket, input.key, input.sequencer);
  if (!deps.intakeStateMachineArn) {
    log.warn({ key: input.key, executionName }, 'no intake state machine configured; nothing started');
    return { started: false, reason: 'no-state-machine', executionName, input };
  }

  try {
    const started = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.intakeStateMachineArn,
        name: executionName,
        input: JSON.stringify(input),
      }),
    );
    log.info({ key: input.key, kind: input.kind, executionArn: started.executionArn }, 'intake started');
    return { started: true, executionArn: started.executionArn ?? '', executionName, input };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) {
      log.info(
        { key: input.key, executionName },
        'intake already started for this event; duplicate delivery',
      );
      return { started: false, reason: 'duplicate', executionName, input };
    }
    throw translateSfnError(error, deps.intakeStateMachineArn);
  }
};

const CONFIG_ERRORS = new Set([
  'StateMachineDoesNotExist',
  'StateMachineDeleting',
  'InvalidArn',
  'InvalidName',
]);

const translateSfnError = (error: unknown, stateMachineArn: string): GsmError => {
  const name = (error as { name?: string }).name ?? 'Error';
  if (CONFIG_ERRORS.has(name)) {
    return new ConfigError(`cannot start the intake state machine ${stateMachineArn}: ${name}`, {
      cause: error,
    });
  }
  return new GsmError('E_UNAVAILABLE', `Step Functions StartExecution failed (${name}); will be retried`, {
    cause: error,
  });
};
