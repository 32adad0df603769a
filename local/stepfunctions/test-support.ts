import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { createLogger } from '../../core/log.js';
import { type LambdaResolver, type StepFunctionsServer, startStepFunctions } from './index.js';

export interface TestStack {
  readonly server: StepFunctionsServer;
  readonly client: SFNClient;
}

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/local';

export const startTestStack = async (lambdas?: LambdaResolver): Promise<TestStack> => {
  const server = await startStepFunctions({
    ...(lambdas ? { lambdas } : {}),
    logger: createLogger('stepfunctions-test', { level: 'silent' }),
    activityPollMs: 5_000,
  });
  const client = new SFNClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { server, client };
};

export const stopTestStack = async (stack: TestStack | undefined): Promise<void> => {
  stack?.client.destroy();
  await stack?.server.close();
};

let counter = 0;
export const uniqueName = (prefix: string): string => `${prefix}-${Date.now()}-${++counter}`;

export const createMachine = async (
  client: SFNClient,
  definition: unknown,
  name = uniqueName('sm'),
): Promise<string> => {
  const created = await client.send(
    new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }),
  );
  return created.stateMachineArn!;
};

export const waitForEnd = async (
  client: SFNClient,
  executionArn: string,
  timeoutMs = 8_000,
): Promise<DescribeExecutionCommandOutput> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    if (Date.now() > deadline)
      throw new Error(`execution still RUNNING after ${timeoutMs} ms: ${executionArn}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

export const historyOf = async (client: SFNClient, executionArn: string): Promise<HistoryEvent[]> =>
  (await client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];

export const typesOf = (events: readonly HistoryEvent[]): string[] => events.map((event) => event.type ?? '');

export const activityArnOf = (name: string): string =>
  `arn:aws:states:us-east-1:123456789012:activity:${name}`;
