import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Where the AWS services are. In AWS every endpoint is left unset and the SDK resolves
 * the regional ones; locally they point at the emulators. Nothing else differs.
 */
export interface AwsConfig {
  readonly region: string;
  readonly endpoints?: {
    readonly dynamodb?: string;
    readonly s3?: string;
    readonly stepfunctions?: string;
  };
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Path-style S3 URLs: needed by s3rver, harmless in AWS. */
  readonly s3ForcePathStyle?: boolean;
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
}

const common = (config: AwsConfig) => ({
  region: config.region,
  ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
});

/**
 * `maxRequests` bounds the requests in flight (the SDK's default is 50 sockets); the rest wait
 * in the client. A bursty writer (the relay) thus cannot fill a single-threaded emulator's
 * queue ahead of everyone else's reads. Queueing is then deliberate, hence no socket warning.
 */
export const createDynamoDbClient = (
  config: AwsConfig,
  { maxRequests, cacheMiddleware }: { maxRequests?: number; cacheMiddleware?: boolean } = {},
): DynamoDBClient =>
  new DynamoDBClient({
    ...common(config),
    endpoint: config.endpoints?.dynamodb,
    ...(cacheMiddleware ? { cacheMiddleware } : {}),
    ...(maxRequests
      ? {
          requestHandler: {
            httpAgent: { keepAlive: true, maxSockets: maxRequests },
            httpsAgent: { keepAlive: true, maxSockets: maxRequests },
            socketAcquisitionWarningTimeout: 600_000,
          },
        }
      : {}),
  });

export const createDocumentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });

/**
 * Every S3 client (presigning included) comes from here. Checksums only when S3 requires
 * them: the SDK's default aws-chunked streaming trailer is stored verbatim by s3rver
 * (corrupting streamed uploads), and presigned part URLs must not carry the checksum of an
 * empty body. Both settings are also right for real S3.
 */
export const createS3Client = (config: AwsConfig): S3Client =>
  new S3Client({
    ...common(config),
    endpoint: config.endpoints?.s3,
    forcePathStyle: config.s3ForcePathStyle ?? false,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

export const createSfnClient = (config: AwsConfig): SFNClient =>
  new SFNClient({ ...common(config), endpoint: config.endpoints?.stepfunctions });

export const createAwsClients = (config: AwsConfig): AwsClients => {
  const dynamodb = createDynamoDbClient(config);
  return {
    dynamodb,
    documents: createDocumentClient(dynamodb),
    s3: createS3Client(config),
    sfn: createSfnClient(config),
  };
};
