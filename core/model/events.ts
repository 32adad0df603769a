import { z } from 'zod';

/**
 * S3 events as EventBridge delivers them (AWS S3 user guide, "EventBridge event message
 * structure"). The local S3 emulator emits exactly these and `functions/trigger` parses
 * them, so the shape is written once. Unknown fields are dropped on parse: AWS adds fields
 * in minor `event-version`s and asks consumers to ignore them.
 */

export const S3_EVENT_SOURCE = 'aws.s3';

export const ObjectCreatedReason = z.enum([
  'PutObject',
  'PostObject',
  'CopyObject',
  'CompleteMultipartUpload',
]);
export type ObjectCreatedReason = z.infer<typeof ObjectCreatedReason>;

export const ObjectDeletedReason = z.enum(['DeleteObject', 'Lifecycle Expiration']);
export type ObjectDeletedReason = z.infer<typeof ObjectDeletedReason>;

const Envelope = {
  version: z.literal('0'),
  id: z.string().min(1),
  source: z.literal(S3_EVENT_SOURCE),
  account: z.string().min(1),
  time: z.iso.datetime(),
  region: z.string().min(1),
  resources: z.array(z.string()),
};

const DetailCommon = {
  version: z.literal('0'),
  'event-version': z.string().optional(),
  bucket: z.object({ name: z.string().min(1) }),
  'request-id': z.string(),
  requester: z.string(),
  /** Absent when S3 itself acted (lifecycle), present for requests. */
  'source-ip-address': z.string().optional(),
};

export const S3ObjectCreatedEvent = z.object({
  ...Envelope,
  'detail-type': z.literal('Object Created'),
  detail: z.object({
    ...DetailCommon,
    object: z.object({
      /** URL-encoded as in every S3 notification; see `decodeEventKey`. */
      key: z.string().min(1),
      size: z.number().int().min(0),
      etag: z.string(),
      'version-id': z.string().optional(),
      /** Hex; for one key, a greater sequencer is a later event. */
      sequencer: z.string().min(1),
    }),
    reason: ObjectCreatedReason,
  }),
});
export type S3ObjectCreatedEvent = z.infer<typeof S3ObjectCreatedEvent>;

export const S3ObjectDeletedEvent = z.object({
  ...Envelope,
  'detail-type': z.literal('Object Deleted'),
  detail: z.object({
    ...DetailCommon,
    object: z.object({
      key: z.string().min(1),
      /** Only when a delete marker was created. */
      size: z.number().int().min(0).optional(),
      etag: z.string().optional(),
      'version-id': z.string().optional(),
      sequencer: z.string().min(1).optional(),
    }),
    reason: ObjectDeletedReason,
    'deletion-type': z.enum(['Permanently Deleted', 'Delete Marker Created']),
  }),
});
export type S3ObjectDeletedEvent = z.infer<typeof S3ObjectDeletedEvent>;

export const S3BucketEvent = z.discriminatedUnion('detail-type', [
  S3ObjectCreatedEvent,
  S3ObjectDeletedEvent,
]);
export type S3BucketEvent = z.infer<typeof S3BucketEvent>;

/**
 * What the trigger hands to the intake state machine. Derived only from the event (never
 * from the clock), so a redelivered event produces the same input and the same execution
 * name. `key` is decoded: it is the object's real key.
 */
export const IntakeInput = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
  size: z.number().int().min(0),
  etag: z.string(),
  sequencer: z.string().min(1),
  kind: z.enum(['upload', 'incoming']),
  packageId: z.string().optional(),
  game: z.string().optional(),
  version: z.string().optional(),
  fileName: z.string().optional(),
});
export type IntakeInput = z.infer<typeof IntakeInput>;

export const STATES_EVENT_SOURCE = 'aws.states';
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** How an execution ended when it did not succeed: its own Finalize never ran. */
export const UNFINISHED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * An execution's status change as EventBridge delivers it (Step Functions developer guide,
 * "Step Functions events"). The local emulator emits the same shape when an execution ends.
 * `input` is left out by AWS above 256 KiB (inputDetails.included false); gsm's are small.
 */
export const ExecutionStatusChangeEvent = z.object({
  ...Envelope,
  source: z.literal(STATES_EVENT_SOURCE),
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE),
  detail: z.object({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().min(1),
    name: z.string().min(1),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    startDate: z.number().optional(),
    stopDate: z.number().nullish(),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionStatusChangeEvent = z.infer<typeof ExecutionStatusChangeEvent>;
