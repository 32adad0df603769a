import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../core/aws.js';
import { type DevEndpoints, type DevStack, startDevStack } from '../../local/dev.js';

let dir: string;
let stack: DevStack;
let endpoints: DevEndpoints;
let aws: AwsClients;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gsm-dev-'));
  stack = await startDevStack({ port: 0, cwd: dir, logLevel: 'silent' });
  // Everything below uses only what a script would read from .gsm/dev.json.
  endpoints = JSON.parse(await readFile(join(dir, '.gsm', 'dev.json'), 'utf8')) as DevEndpoints;
  aws = createAwsClients({
    region: endpoints.region,
    credentials: endpoints.credentials,
    endpoints: { dynamodb: endpoints.dynamodb, s3: endpoints.s3, stepfunctions: endpoints.stepfunctions },
    s3ForcePathStyle: true,
  });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const api = (path: string, init: RequestInit & { key?: string | null } = {}) => {
  const headers = new Headers(init.headers);
  const key = init.key === undefined ? endpoints.apiKey : init.key;
  if (key) headers.set('authorization', `Bearer ${key}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${endpoints.api}${path}`, { ...init, headers });
};

describe('gsm dev', () => {
  it('writes every endpoint to .gsm/dev.json', () => {
    expect(endpoints).toMatchObject({
      api: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      apiKey: expect.stringMatching(/^gsm_/),
      region: 'us-east-1',
      credentials: { accessKeyId: expect.any(String), secretAccessKey: expect.any(String) },
      dynamodb: expect.stringMatching(/^http:/),
      s3: expect.stringMatching(/^http:/),
      stepfunctions: expect.stringMatching(/^http:/),
      bucket: 'gsm-packages',
      table: 'gsm',
    });
  });

  it('serves S3: the bucket exists and objects round-trip', async () => {
    const body = 'hello from the local stack';
    await aws.s3.send(new PutObjectCommand({ Bucket: endpoints.bucket, Key: 'notes/hello.txt', Body: body }));
    const got = await aws.s3.send(new GetObjectCommand({ Bucket: endpoints.bucket, Key: 'notes/hello.txt' }));
    expect(await got.Body?.transformToString()).toBe(body);
  });

  it('serves DynamoDB with the gsm table and its indexes', async () => {
    const { Table } = await aws.dynamodb.send(new DescribeTableCommand({ TableName: endpoints.table }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([
      'byHost',
      'byParent',
      'byState',
      'byType',
    ]);
  });

  it('runs a state machine with a Pass state and an activity task, with the history AWS shows', async () => {
    const { activityArn } = await aws.sfn.send(new CreateActivityCommand({ name: 'dev-e2e-worker' }));
    const definition = {
      StartAt: 'Prepare',
      States: {
        Prepare: { Type: 'Pass', Result: { greeting: 'hi' }, ResultPath: '$.prepared', Next: 'Work' },
        Work: { Type: 'Task', Resource: activityArn, HeartbeatSeconds: 5, TimeoutSeconds: 30, End: true },
      },
    };
    const { stateMachineArn } = await aws.sfn.send(
      new CreateStateMachineCommand({
        name: 'dev-e2e',
        definition: JSON.stringify(definition),
        roleArn: 'arn:aws:iam::123456789012:role/local',
      }),
    );
    const { executionArn } = await aws.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: 'run-1', input: JSON.stringify({ host: 'eu-1' }) }),
    );
    const task = await aws.sfn.send(new GetActivityTaskCommand({ activityArn, workerName: 'e2e' }));
    expect(JSON.parse(task.input ?? '{}')).toEqual({ host: 'eu-1', prepared: { greeting: 'hi' } });
    for (let beat = 0; beat < 2; beat++) {
      await aws.sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
    }
    await aws.sfn.send(
      new SendTaskSuccessCommand({ taskToken: task.taskToken, output: JSON.stringify({ ok: true }) }),
    );

    let status = 'RUNNING';
    for (let i = 0; i < 100 && status === 'RUNNING'; i++) {
      const described = await aws.sfn.send(new DescribeExecutionCommand({ executionArn }));
      status = described.status ?? 'UNKNOWN';
      if (status === 'SUCCEEDED') expect(JSON.parse(described.output ?? '{}')).toEqual({ ok: true });
      if (status === 'RUNNING') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('SUCCEEDED');

    const { events = [] } = await aws.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'ActivityScheduled',
      'ActivityStarted',
      'ActivitySucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
  });

  it('serves the API: 401 without a key, 400 naming bad fields, 404 for unknown hosts', async () => {
    expect((await api('/v1/health', { key: null })).status).toBe(200);
    expect((await api('/v1/hosts', { key: null })).status).toBe(401);
    const bad = await api('/v1/hosts', { method: 'POST', body: JSON.stringify({ id: 'x', port: 'many' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['address', 'port']),
    );
    expect((await api('/v1/hosts/nope')).status).toBe(404);
  });

  it('knows the demo games', async () => {
    const games = (await (await api('/v1/games')).json()) as { items: { name: string }[] };
    expect(games.items.map((g) => g.name)).toEqual(expect.arrayContaining(['cod4x', 'demo']));
  });
});
