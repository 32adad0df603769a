import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's one DynamoDB Local: its endpoint, or why it could not start. */
    dynamoDbLocal: { endpoint: string } | { error: string };
  }
}

/**
 * One DynamoDB Local for the whole run: the JVM takes ~2 s to start, so test files share it
 * and keep apart by table name. When it cannot start, the tests that need it fail with the
 * reason instead of the whole run failing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const dynamo = await startDynamoDbLocal();
    project.provide('dynamoDbLocal', { endpoint: dynamo.endpoint });
    return () => dynamo.close();
  } catch (error) {
    project.provide('dynamoDbLocal', { error: error instanceof Error ? error.message : String(error) });
    return async () => {};
  }
}
