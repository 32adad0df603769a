import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/**
 * s3rver 3.7.1 ships no types. These describe only what local/s3 touches, including the
 * internals it hooks into (the Koa middleware list, the filesystem store, the key
 * registry, the authentication middleware and the S3 error type), loaded from the exact
 * pinned version. `startS3` checks the middleware layout it depends on at start.
 */

export interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  headers: Record<string, string | string[] | undefined>;
  ip: string;
  params?: Record<string, string | undefined>;
  state: { account?: { id: number | string }; vhost?: boolean; [k: string]: unknown };
  req: NodeJS.ReadableStream;
  status: number;
  body: unknown;
  type: string;
  set(name: string, value: string): void;
}

export type KoaNext = () => Promise<unknown>;
export type KoaMiddleware = ((ctx: KoaContext, next: KoaNext) => unknown) & { name?: string };

export interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number>>;
}

export interface S3rverEventRecord {
  eventName: string;
  eventTime: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

export interface S3rverServer {
  middleware: KoaMiddleware[];
  store: FilesystemStore;
  httpServer?: Server;
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  on(event: 'event', listener: (event: { Records: S3rverEventRecord[] }) => void): this;
  on(event: 'error', listener: (error: unknown) => void): this;
}

export interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  vhostBuckets: boolean;
  configureBuckets: { name: string }[];
}

export interface S3ErrorInstance extends Error {
  code: string;
  status: number;
}

interface AccountModule {
  DUMMY_ACCOUNT: {
    id: number;
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  };
}

const require = createRequire(import.meta.url);

export const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverServer;
export const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as AccountModule;
export const S3Error = require('s3rver/lib/models/error') as new (
  code: string,
  message?: string,
  detail?: Record<string, string | number>,
) => S3ErrorInstance;
export const authentication = require('s3rver/lib/middleware/authentication') as () => KoaMiddleware;

/** The access key s3rver always knows; its SigV4 signatures are not checked. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
