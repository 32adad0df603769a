import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../core/log.js';
import {
  createEventDelivery,
  createSequencer,
  type EventContext,
  newRequestId,
  type RequestFacts,
  type S3EventListener,
  toEventBridgeEvent,
} from './events.js';
import { readObjectsInLargeChunks } from './large-reads.js';
import { createMultipartUploads, MULTIPART_ETAG_STATE } from './multipart.js';
import { keepMultipartObjectsAsParts } from './multipart-objects.js';
import { operationOf, sourceIpOf, targetOf } from './request.js';
import {
  authentication,
  DUMMY_ACCOUNT,
  type KoaContext,
  type KoaMiddleware,
  type KoaNext,
  S3RVER_CREDENTIALS,
  S3rver,
  type S3rverServer,
} from './s3rver.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface StartS3Options {
  readonly bucket: string;
  /** Keep objects here across restarts; by default a temp folder removed on close. */
  readonly directory?: string;
  /** Every Object Created / Object Deleted event, shaped as EventBridge delivers it. */
  readonly onEvent?: S3EventListener;
  readonly logger?: Logger;
  readonly region?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** A key pair accepted besides S3RVER/S3RVER (s3rver rejects unknown access key ids). */
  readonly credentials?: S3Credentials;
}

export interface LocalS3 {
  /** Path-style endpoint for the SDK (`forcePathStyle: true`), the AWS CLI or curl. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly directory: string;
  /** Credentials clients should use. */
  readonly credentials: S3Credentials;
  /** Resolves once every event raised so far has been handed to `onEvent`. */
  drainEvents(): Promise<void>;
  /** Stops listening, delivers pending events, and removes a temp folder. Idempotent. */
  close(): Promise<void>;
}

interface RequestScope {
  readonly ctx: KoaContext;
  readonly facts: Omit<RequestFacts, 'requester'>;
}

/** s3rver's own stack: logger, XML body encoder, mount path, vhost rewrite, then the router. */
const S3RVER_ROUTER_MIDDLEWARE = 'dispatch';
const S3RVER_MIDDLEWARE_COUNT = 5;
const FORCE_CLOSE_AFTER_MS = 1000;

/**
 * The S3 server on the calling thread. `startS3` (thread.ts) runs this in a worker thread of its
 * own, so serving and receiving gigabytes does not take turns with the caller's work.
 */
export const startS3InThisThread = async (options: StartS3Options): Promise<LocalS3> => {
  const logger = (options.logger ?? createLogger('local-s3')).child({ component: 's3' });
  const region = options.region ?? 'us-east-1';
  const temporary = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'gsm-s3-')));
  if (!temporary) await mkdir(directory, { recursive: true });

  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket }],
  });

  const context: EventContext = { account: String(DUMMY_ACCOUNT.id), region };
  const scopes = new AsyncLocalStorage<RequestScope>();
  const deliveries = createEventDelivery(options.onEvent, logger);
  const nextSequencer = createSequencer();
  const multipart = createMultipartUploads(server.store);
  keepMultipartObjectsAsParts(server.store);
  readObjectsInLargeChunks(server.store);

  installMiddleware(server, [
    async function gsmRequestFacts(ctx: KoaContext, next: KoaNext) {
      const target = targetOf(ctx);
      const requestId = newRequestId();
      ctx.set('x-amz-request-id', requestId);
      const facts = { operation: operationOf(ctx, target), requestId, sourceIp: sourceIpOf(ctx) };
      return scopes.run({ ctx, facts }, next);
    },
    multipart.middleware(authentication(), (ctx) => {
      const target = targetOf(ctx);
      return { target, operation: operationOf(ctx, target) };
    }),
  ]);

  const etagOf = async (bucket: string, key: string): Promise<string> => {
    const metadata = await server.store.getMetadata(bucket, key).catch(() => undefined);
    return String(metadata?.etag ?? '').replace(/"/g, '');
  };

  // s3rver emits synchronously inside the request that stored the object, so the scope
  // of that request is still current here.
  server.on('event', (payload) => {
    const scope = scopes.getStore();
    const facts: RequestFacts | undefined = scope && {
      ...scope.facts,
      requester: String(scope.ctx.state.account?.id ?? 'anonymous'),
    };
    const multipartEtag = scope?.ctx.state[MULTIPART_ETAG_STATE];
    for (const record of payload.Records) {
      const sequencer = nextSequencer();
      deliveries.enqueue(record.s3.object.key, async () => {
        const etag =
          typeof multipartEtag === 'string'
            ? multipartEtag
            : record.eventName === 'ObjectCreated:Copy'
              ? await etagOf(record.s3.bucket.name, record.s3.object.key)
              : undefined;
        return toEventBridgeEvent(record, facts, context, { sequencer, etag });
      });
    }
  });
  server.on('error', (error) => {
    const status = (error as { status?: number }).status ?? 500;
    if (status >= 500) logger.error({ err: error }, 's3rver request failed');
    else logger.debug({ code: (error as { code?: string }).code, status }, 's3rver answered an error');
  });

  if (options.credentials) {
    DUMMY_ACCOUNT.createKeyPair(options.credentials.accessKeyId, options.credentials.secretAccessKey);
  }

  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  logger.info({ endpoint, bucket: options.bucket, directory }, 'local S3 ready');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const http = server.httpServer;
      const stopped = server.close();
      http?.closeIdleConnections();
      const force = setTimeout(() => http?.closeAllConnections(), FORCE_CLOSE_AFTER_MS);
      force.unref();
      try {
        await stopped;
      } finally {
        clearTimeout(force);
      }
      await deliveries.drain();
      if (options.credentials && options.credentials.accessKeyId !== S3RVER_CREDENTIALS.accessKeyId) {
        DUMMY_ACCOUNT.revokeAccessKey(options.credentials.accessKeyId);
      }
      if (temporary) await rm(directory, { recursive: true, force: true });
      logger.info({ endpoint }, 'local S3 stopped');
    })();
    return closing;
  };

  return {
    endpoint,
    bucket: options.bucket,
    region,
    directory,
    credentials: options.credentials ?? S3RVER_CREDENTIALS,
    drainEvents: deliveries.drain,
    close,
  };
};

/**
 * Our middleware goes right before s3rver's router: after its vhost rewrite (so paths are
 * path-style) and inside its XML encoder and error handler (so our answers and errors are
 * written the way s3rver writes its own).
 */
const installMiddleware = (server: S3rverServer, added: KoaMiddleware[]): void => {
  const stack = server.middleware;
  if (stack.length !== S3RVER_MIDDLEWARE_COUNT || stack.at(-1)?.name !== S3RVER_ROUTER_MIDDLEWARE) {
    throw new Error(
      `s3rver's middleware stack is not the one local/s3 was written for (s3rver 3.7.1): ${stack
        .map((m) => m.name || '?')
        .join(', ')}`,
    );
  }
  stack.splice(stack.length - 1, 0, ...added);
};
