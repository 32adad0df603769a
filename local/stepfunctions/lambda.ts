import { randomUUID } from 'node:crypto';

export interface LambdaContext {
  readonly functionName: string;
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** The same plain async handler shape the functions/ modules export for Lambda. */
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

/** Maps a function name (never an ARN) to its handler; undefined when no such function exists. */
export type LambdaResolver = (functionName: string) => Promise<LambdaHandler | undefined>;

export interface FunctionRef {
  readonly name: string;
  readonly qualifier?: string;
  readonly arn: string;
}

const NAME = '[A-Za-z0-9_-]{1,140}';
const QUALIFIER = '[A-Za-z0-9$_-]{1,128}';
const FULL_ARN = new RegExp(`^arn:aws:lambda:([a-z0-9-]+):(\\d{12}):function:(${NAME})(?::(${QUALIFIER}))?$`);
const PARTIAL_ARN = new RegExp(`^(\\d{12}):function:(${NAME})(?::(${QUALIFIER}))?$`);
const PLAIN = new RegExp(`^(${NAME})(?::(${QUALIFIER}))?$`);

/** Accepts every FunctionName form Lambda's Invoke takes: name, name:qualifier, partial ARN and full ARN. */
export const parseFunctionRef = (
  ref: unknown,
  region: string,
  accountId: string,
): FunctionRef | undefined => {
  if (typeof ref !== 'string') return undefined;
  const build = (r: string, account: string, name: string | undefined, qualifier: string | undefined) =>
    name
      ? {
          name,
          ...(qualifier ? { qualifier } : {}),
          arn: `arn:aws:lambda:${r}:${account}:function:${name}${qualifier ? `:${qualifier}` : ''}`,
        }
      : undefined;
  const full = FULL_ARN.exec(ref);
  if (full) return build(full[1] ?? region, full[2] ?? accountId, full[3], full[4]);
  const partial = PARTIAL_ARN.exec(ref);
  if (partial) return build(region, partial[1] ?? accountId, partial[2], partial[3]);
  const plain = PLAIN.exec(ref);
  if (plain) return build(region, accountId, plain[1], plain[2]);
  return undefined;
};

export type InvokeOutcome =
  | { readonly ok: true; readonly payload: unknown; readonly requestId: string }
  | { readonly ok: false; readonly error: string; readonly cause: string };

/** A Lambda invocation crosses a JSON boundary: the handler sees a copy and its result is re-parsed. */
const roundTrip = (value: unknown): unknown =>
  value === undefined ? null : JSON.parse(JSON.stringify(value));

/** The Node.js runtime's error payload; Step Functions puts it, as a string, in Cause. */
const errorCause = (thrown: unknown): { error: string; cause: string } => {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  const errorType = error.name || 'Error';
  const trace = (error.stack ?? `${errorType}: ${error.message}`).split('\n');
  return { error: errorType, cause: JSON.stringify({ errorType, errorMessage: error.message, trace }) };
};

export const invokeFunction = async (
  resolver: LambdaResolver | undefined,
  ref: FunctionRef,
  event: unknown,
  remainingMs: number,
  onStarted: () => void = () => {},
): Promise<InvokeOutcome> => {
  const requestId = randomUUID();
  let handler: LambdaHandler | undefined;
  try {
    handler = await resolver?.(ref.name);
  } catch (thrown) {
    return { ok: false, error: 'Lambda.ServiceException', cause: errorCause(thrown).cause };
  }
  if (!handler) {
    return {
      ok: false,
      error: 'Lambda.ResourceNotFoundException',
      cause: `Function not found: ${ref.arn} (Service: Lambda, Status Code: 404, Request ID: ${requestId})`,
    };
  }
  onStarted();
  const deadline = Date.now() + remainingMs;
  const context: LambdaContext = {
    functionName: ref.name,
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const payload = await handler(roundTrip(event), context);
    return { ok: true, payload: roundTrip(payload), requestId };
  } catch (thrown) {
    return { ok: false, ...errorCause(thrown) };
  }
};

/** What `arn:aws:states:::lambda:invoke` returns: the Invoke response, with the function's result as Payload. */
export const invokeResponse = (
  ref: FunctionRef,
  payload: unknown,
  requestId: string,
): Record<string, unknown> => ({
  ExecutedVersion: ref.qualifier && /^\d+$/.test(ref.qualifier) ? ref.qualifier : '$LATEST',
  Payload: payload,
  SdkHttpMetadata: {
    AllHttpHeaders: {
      'X-Amz-Executed-Version': ['$LATEST'],
      'x-amzn-Remapped-Content-Length': ['0'],
      Connection: ['keep-alive'],
      'x-amzn-RequestId': [requestId],
      'Content-Type': ['application/json'],
    },
    HttpHeaders: {
      Connection: 'keep-alive',
      'Content-Type': 'application/json',
      'X-Amz-Executed-Version': '$LATEST',
      'x-amzn-Remapped-Content-Length': '0',
      'x-amzn-RequestId': requestId,
    },
    HttpStatusCode: 200,
  },
  SdkResponseMetadata: { RequestId: requestId },
  StatusCode: 200,
});
