import {
  ExecutionAlreadyExists,
  type SFNClient,
  type StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, GsmError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import type { S3ObjectCreatedEvent } from '../../core/model/events.js';
import { encodeEventKey, UPLOAD_PREFIX } from '../../core/model/s3-keys.js';
import {
  executionNameFor,
  handleObjectCreated,
  parseObjectCreatedEvent,
  type TriggerDeps,
} from './trigger.js';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:gsm-intake';

const baseEvent: S3ObjectCreatedEvent = {
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '123456789012',
  time: '2021-11-12T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:s3:::gsm-packages'],
  detail: {
    version: '0',
    bucket: { name: 'gsm-packages' },
    object: {
      key: 'uploads/cod4x@21.3/cod4x-server.tar.bz2',
      size: 1048576,
      etag: 'b1946ac92492d2347c6235b4d2611184',
      sequencer: '617f08299329d189',
    },
    'request-id': 'N4N7GDK58NMKJ12R',
    requester: '123456789012',
    'source-ip-address': '1.2.3.4',
    reason: 'CompleteMultipartUpload',
  },
};

const withKey = (key: string, sequencer = baseEvent.detail.object.sequencer): S3ObjectCreatedEvent => ({
  ...baseEvent,
  detail: {
    ...baseEvent.detail,
    object: { ...baseEvent.detail.object, key: encodeEventKey(key), sequencer },
  },
});

const setup = (send: (command: StartExecutionCommand) => Promise<unknown> = async () => ({})) => {
  const calls: StartExecutionCommand[] = [];
  const sfn = {
    send: vi.fn(async (command: StartExecutionCommand) => {
      calls.push(command);
      return send(command);
    }),
  } as unknown as SFNClient;
  const deps: TriggerDeps = {
    sfn,
    intakeStateMachineArn: STATE_MACHINE,
    uploadPrefix: UPLOAD_PREFIX,
    logger: createLogger('test', { level: 'silent' }),
  };
  return { deps, calls };
};

describe('handleObjectCreated', () => {
  it('starts intake for an uploaded package with the package id and file name', async () => {
    // Prepare
    const { deps, calls } = setup(async () => ({
      executionArn: `${STATE_MACHINE}:x`,
      startDate: new Date(),
    }));

    // Act
    const result = await handleObjectCreated(baseEvent, deps);

    // Assess
    expect(result).toMatchObject({ started: true, executionArn: `${STATE_MACHINE}:x` });
    expect(calls).toHaveLength(1);
    const command = calls[0]!.input;
    expect(command.stateMachineArn).toBe(STATE_MACHINE);
    expect(JSON.parse(command.input ?? '')).toEqual({
      bucket: 'gsm-packages',
      key: 'uploads/cod4x@21.3/cod4x-server.tar.bz2',
      size: 1048576,
      etag: 'b1946ac92492d2347c6235b4d2611184',
      sequencer: '617f08299329d189',
      kind: 'upload',
      packageId: 'cod4x@21.3',
      fileName: 'cod4x-server.tar.bz2',
    });
  });

  it('decodes the key and starts intake for a build-pipeline drop under incoming/', async () => {
    const { deps, calls } = setup();
    const key = 'incoming/cod4x/21.3 hotfix+1/server ü.tar.bz2';

    const result = await handleObjectCreated(withKey(key), deps);

    expect(result.started).toBe(true);
    expect(JSON.parse(calls[0]!.input.input ?? '')).toMatchObject({
      key,
      kind: 'incoming',
      game: 'cod4x',
      version: '21.3 hotfix+1',
      fileName: 'server ü.tar.bz2',
    });
  });

  it.each([
    { key: 'incoming/cod4x/21.3/server.tar.bz2.sha256', reason: 'sha256-sidecar' },
    { key: 'logs/2024/01/01.txt', reason: 'ignored-key' },
    { key: 'uploads/only-one-segment', reason: 'ignored-key' },
    { key: 'uploads/pkg/nested/file.bin', reason: 'ignored-key' },
    { key: 'incoming/cod4x/server.tar.bz2', reason: 'ignored-key' },
    { key: 'incoming/cod4x//server.tar.bz2', reason: 'ignored-key' },
  ])('starts nothing for $key ($reason)', async ({ key, reason }) => {
    const { deps, calls } = setup();

    const result = await handleObjectCreated(withKey(key), deps);

    expect(result).toEqual({ started: false, reason });
    expect(calls).toHaveLength(0);
  });

  it('honours the upload prefix it is given', async () => {
    const { deps, calls } = setup();

    const result = await handleObjectCreated(withKey('staging-uploads/pkg@1/file.bin'), {
      ...deps,
      uploadPrefix: 'staging-uploads/',
    });

    expect(result.started).toBe(true);
    expect(JSON.parse(calls[0]!.input.input ?? '')).toMatchObject({ kind: 'upload', packageId: 'pkg@1' });
  });

  it.each([
    { case: 'a non-object', event: 'hello' },
    { case: 'null', event: null },
    { case: 'another source', event: { ...baseEvent, source: 'aws.ec2' } },
    {
      case: 'a missing size',
      event: { ...baseEvent, detail: { ...baseEvent.detail, object: { key: 'k' } } },
    },
    {
      case: 'an unknown reason',
      event: { ...baseEvent, detail: { ...baseEvent.detail, reason: 'Teleport' } },
    },
    {
      case: 'a malformed key encoding',
      event: {
        ...baseEvent,
        detail: {
          ...baseEvent.detail,
          object: { ...baseEvent.detail.object, key: 'uploads/a/%E0%A4%A.bin' },
        },
      },
    },
  ])('drops $case as an invalid event without calling Step Functions or throwing', async ({ event }) => {
    const { deps, calls } = setup();

    const result = await handleObjectCreated(event, deps);

    expect(result).toEqual({ started: false, reason: 'invalid-event' });
    expect(calls).toHaveLength(0);
  });

  it('ignores other S3 event types such as Object Deleted', async () => {
    const { deps, calls } = setup();

    const result = await handleObjectCreated({ ...baseEvent, 'detail-type': 'Object Deleted' }, deps);

    expect(result).toEqual({ started: false, reason: 'not-object-created' });
    expect(calls).toHaveLength(0);
  });

  it('reports a redelivered event whose execution exists as a duplicate, not a failure', async () => {
    const { deps } = setup(async () => {
      throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
    });

    const result = await handleObjectCreated(baseEvent, deps);

    expect(result).toMatchObject({ started: false, reason: 'duplicate' });
  });

  it('logs and starts nothing when no intake state machine is configured', async () => {
    const { deps, calls } = setup();

    const result = await handleObjectCreated(baseEvent, { ...deps, intakeStateMachineArn: undefined });

    expect(result).toMatchObject({ started: false, reason: 'no-state-machine' });
    expect(calls).toHaveLength(0);
  });

  it('throws a ConfigError when the state machine does not exist', async () => {
    const { deps } = setup(async () => {
      throw new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: {} });
    });

    await expect(handleObjectCreated(baseEvent, deps)).rejects.toBeInstanceOf(ConfigError);
  });

  it('throws a retryable E_UNAVAILABLE error when Step Functions fails otherwise', async () => {
    const { deps } = setup(async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    });

    const failure = handleObjectCreated(baseEvent, deps);

    await expect(failure).rejects.toBeInstanceOf(GsmError);
    await expect(failure).rejects.toMatchObject({ code: 'E_UNAVAILABLE' });
  });
});

describe('executionNameFor', () => {
  it('is deterministic, at most 80 characters, and uses only [A-Za-z0-9_-]', () => {
    const key = `uploads/pkg@1/${'very long file name with spaces ü '.repeat(5)}.tar.bz2`;

    const name = executionNameFor('gsm-packages', key, '617f08299329d189');

    expect(name).toBe(executionNameFor('gsm-packages', key, '617f08299329d189'));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    { change: 'sequencer', bucket: 'gsm-packages', key: 'uploads/a/b.bin', sequencer: '617f0829932aaaaa' },
    { change: 'key', bucket: 'gsm-packages', key: 'uploads/a/c.bin', sequencer: '617f08299329d189' },
    { change: 'bucket', bucket: 'other-bucket', key: 'uploads/a/b.bin', sequencer: '617f08299329d189' },
  ])('differs when the $change differs', ({ bucket, key, sequencer }) => {
    expect(executionNameFor(bucket, key, sequencer)).not.toBe(
      executionNameFor('gsm-packages', 'uploads/a/b.bin', '617f08299329d189'),
    );
  });

  it('keeps a readable part of the file name', () => {
    expect(executionNameFor('b', 'incoming/g/v/server.tar.bz2', '1')).toMatch(
      /^server_tar_bz2-[0-9a-f]{32}$/,
    );
    expect(executionNameFor('b', 'incoming/g/v/ü', '1')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('parseObjectCreatedEvent', () => {
  it('names each bad field', () => {
    expect(() =>
      parseObjectCreatedEvent({ ...baseEvent, detail: { ...baseEvent.detail, reason: 'X' } }),
    ).toThrow(
      expect.objectContaining({
        code: 'E_VALIDATION',
        issues: [expect.objectContaining({ path: 'detail.reason' })],
      }),
    );
  });

  it('accepts fields AWS adds in later event versions', () => {
    const event = { ...baseEvent, detail: { ...baseEvent.detail, 'event-version': '1.1', extra: true } };

    expect(parseObjectCreatedEvent(event).detail['event-version']).toBe('1.1');
  });
});
