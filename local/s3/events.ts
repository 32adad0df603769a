import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../../core/log.js';
import type {
  ObjectCreatedReason,
  S3BucketEvent,
  S3ObjectCreatedEvent,
  S3ObjectDeletedEvent,
} from '../../core/model/events.js';
import { encodeEventKey } from '../../core/model/s3-keys.js';
import type { S3Operation } from './request.js';
import type { S3rverEventRecord } from './s3rver.js';

/**
 * Turns s3rver's notification records into the events EventBridge delivers in AWS.
 * s3rver names a multipart completion and a browser form upload alike
 * (`ObjectCreated:Post`), so the reason comes from the operation the request was
 * (recorded before s3rver ran), not from the record's name.
 */

export type S3EventListener = (event: S3BucketEvent) => void | Promise<void>;

/** What the request that caused a record looked like, captured when it arrived. */
export interface RequestFacts {
  readonly operation: S3Operation;
  readonly requestId: string;
  readonly sourceIp: string;
  readonly requester: string;
}

export interface EventContext {
  readonly account: string;
  readonly region: string;
}

const CREATED_REASONS: Partial<Record<S3Operation, ObjectCreatedReason>> = {
  PutObject: 'PutObject',
  CopyObject: 'CopyObject',
  PostObject: 'PostObject',
  CompleteMultipartUpload: 'CompleteMultipartUpload',
};

const FALLBACK_REASONS: Record<string, ObjectCreatedReason> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:Post': 'CompleteMultipartUpload',
};

/** S3 request ids are 16 upper-case hex-ish characters. */
export const newRequestId = (): string => randomBytes(8).toString('hex').toUpperCase();

/**
 * Sequencers only need to grow per key. s3rver's (milliseconds in hex) repeat within a
 * millisecond, so a counter is appended: 18 hex digits, like the ones S3 sends.
 */
export const createSequencer = () => {
  let counter = 0;
  return (): string => {
    counter = (counter + 1) % 0x1000000;
    return `${Date.now().toString(16).padStart(12, '0')}${counter.toString(16).padStart(6, '0')}`.toUpperCase();
  };
};

/** EventBridge times have whole seconds: `2021-11-12T00:00:00Z`. */
const eventTime = (iso: string): string => `${new Date(iso).toISOString().slice(0, 19)}Z`;

export const toEventBridgeEvent = (
  record: S3rverEventRecord,
  facts: RequestFacts | undefined,
  context: EventContext,
  object: { readonly sequencer: string; readonly etag?: string },
): S3BucketEvent | undefined => {
  const bucket = record.s3.bucket.name;
  const envelope = {
    version: '0' as const,
    id: randomUUID(),
    source: 'aws.s3' as const,
    account: context.account,
    time: eventTime(record.eventTime),
    region: context.region,
    resources: [`arn:aws:s3:::${bucket}`],
  };
  const common = {
    version: '0' as const,
    bucket: { name: bucket },
    'request-id': facts?.requestId ?? newRequestId(),
    requester: facts?.requester ?? context.account,
    'source-ip-address': facts?.sourceIp ?? '127.0.0.1',
  };
  const key = encodeEventKey(record.s3.object.key);
  if (record.eventName.startsWith('ObjectCreated:')) {
    const reason =
      (facts && CREATED_REASONS[facts.operation]) ?? FALLBACK_REASONS[record.eventName] ?? 'PutObject';
    const etag = object.etag ?? record.s3.object.eTag;
    const event: S3ObjectCreatedEvent = {
      ...envelope,
      'detail-type': 'Object Created',
      detail: {
        ...common,
        object: { key, size: record.s3.object.size ?? 0, etag: etag ?? '', sequencer: object.sequencer },
        reason,
      },
    };
    return event;
  }
  if (record.eventName.startsWith('ObjectRemoved:')) {
    const event: S3ObjectDeletedEvent = {
      ...envelope,
      'detail-type': 'Object Deleted',
      detail: {
        ...common,
        object: { key, sequencer: object.sequencer },
        reason: 'DeleteObject',
        'deletion-type': 'Permanently Deleted',
      },
    };
    return event;
  }
  return undefined;
};

/**
 * Delivers events to the listener one at a time per key, in the order S3 stored them, and
 * concurrently across keys. A listener that throws or rejects is logged; it can never
 * reach s3rver's request handling.
 */
export const createEventDelivery = (listener: S3EventListener | undefined, logger: Logger) => {
  const chains = new Map<string, Promise<void>>();

  const enqueue = (key: string, build: () => Promise<S3BucketEvent | undefined>): void => {
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      let event: S3BucketEvent | undefined;
      try {
        event = await build();
        if (event && listener) await listener(event);
      } catch (error) {
        logger.error(
          { err: error, key, detailType: event?.['detail-type'], eventId: event?.id },
          'S3 event listener failed; the event is dropped',
        );
      }
    });
    chains.set(key, next);
    void next.finally(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
  };

  /** Resolves once every event enqueued so far (and any they cause) has been delivered. */
  const drain = async (): Promise<void> => {
    while (chains.size > 0) await Promise.all([...chains.values()]);
  };

  return { enqueue, drain };
};
