import type { KoaContext } from './s3rver.js';

/**
 * What a request to s3rver is, as S3 names its operations. Read from the method, path and
 * query before s3rver's router runs, so the added multipart operations and the event
 * mapping agree on one reading.
 */
export type S3Operation =
  | 'PutObject'
  | 'CopyObject'
  | 'PostObject'
  | 'CompleteMultipartUpload'
  | 'UploadPart'
  | 'ListParts'
  | 'AbortMultipartUpload'
  | 'DeleteObject'
  | 'Other';

export interface S3Target {
  readonly bucket: string;
  /** Absent for bucket-level requests. */
  readonly key?: string;
}

export const firstQueryValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** Path-style only (vhost requests were already rewritten to this form by s3rver). */
export const targetOf = (ctx: KoaContext): S3Target | undefined => {
  const match = /^\/([^/]+)(?:\/(.*))?$/.exec(ctx.path);
  if (!match?.[1]) return undefined;
  try {
    const bucket = decodeURIComponent(match[1]);
    const key = match[2] ? decodeURIComponent(match[2]) : undefined;
    return key ? { bucket, key } : { bucket };
  } catch {
    return undefined;
  }
};

export const operationOf = (ctx: KoaContext, target: S3Target | undefined): S3Operation => {
  if (!target) return 'Other';
  const has = (name: string) => ctx.query[name] !== undefined;
  if (!target.key) return ctx.method === 'POST' && !has('delete') ? 'PostObject' : 'Other';
  switch (ctx.method) {
    case 'PUT':
      if (has('uploadId')) return 'UploadPart';
      if (has('tagging') || has('acl')) return 'Other';
      return ctx.headers['x-amz-copy-source'] !== undefined ? 'CopyObject' : 'PutObject';
    case 'POST':
      return has('uploadId') ? 'CompleteMultipartUpload' : 'Other';
    case 'GET':
      return has('uploadId') ? 'ListParts' : 'Other';
    case 'DELETE':
      if (has('uploadId')) return 'AbortMultipartUpload';
      return has('tagging') ? 'Other' : 'DeleteObject';
    default:
      return 'Other';
  }
};

/** Node reports IPv4 peers on dual-stack sockets as `::ffff:a.b.c.d`; S3 shows `a.b.c.d`. */
export const sourceIpOf = (ctx: KoaContext): string => ctx.ip.replace(/^::ffff:/, '');
