import { randomUUID } from 'node:crypto';
import {
  EXECUTION_STATUS_CHANGE,
  type ExecutionStatusChangeEvent,
  STATES_EVENT_SOURCE,
} from '../../core/model/events.js';
import type { Scope } from './arns.js';
import type { ExecutionRecord } from './executions.js';

/** Told of every execution that ends, with the event EventBridge would deliver for it. */
export type ExecutionEndedListener = (event: ExecutionStatusChangeEvent) => void;

/** The "Step Functions Execution Status Change" event of an ended execution, as AWS sends it. */
export const statusChangeEvent = (scope: Scope, record: ExecutionRecord): ExecutionStatusChangeEvent => ({
  version: '0',
  id: randomUUID(),
  source: STATES_EVENT_SOURCE,
  'detail-type': EXECUTION_STATUS_CHANGE,
  account: scope.accountId,
  time: new Date(record.stopDate ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: scope.region,
  resources: [record.arn],
  detail: {
    executionArn: record.arn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate,
    stopDate: record.stopDate ?? null,
    input: record.input,
    error: record.status === 'TIMED_OUT' ? 'States.Timeout' : (record.error ?? null),
    cause: record.cause ?? null,
  },
});
