import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { firstQueryValue, type S3Operation, type S3Target } from './request.js';
import {
  type FilesystemStore,
  type KoaContext,
  type KoaMiddleware,
  type KoaNext,
  S3Error,
} from './s3rver.js';

/**
 * The multipart operations s3rver lacks or gets wrong, answered from its own upload
 * folder: `<root>/<bucket>/._S3rver_uploads/<uploadId>/` holds `key`, `metadata`, and per
 * part `<n>` and `<n>.md5` (the `.md5` is written once the part is stored).
 * - ListParts and AbortMultipartUpload: s3rver has no route (405).
 * - UploadPart and CompleteMultipartUpload on an unknown or aborted upload: s3rver would
 *   recreate the folder or fail with a 500; S3 answers NoSuchUpload.
 * - CompleteMultipartUpload naming a part that is missing or has another ETag: s3rver would
 *   crash the process on the missing file or store the wrong bytes; S3 answers InvalidPart.
 * - The ETag of a completed multipart object: s3rver gives the MD5 of the whole object, S3
 *   the MD5 of the parts' MD5s with `-<parts>`. Code that took an ETag for a content hash
 *   would pass here and fail in AWS, so the S3 form is used (response, HEAD/GET, event).
 */

/** Where the multipart ETag is left for the event of the request that completed it. */
export const MULTIPART_ETAG_STATE = 'gsmMultipartEtag';

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS_PER_LISTING = 1000;
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;
const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface StoredPart {
  readonly partNumber: number;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
}

const noSuchUpload = () =>
  new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  );

const invalidPart = () =>
  new S3Error(
    'InvalidPart',
    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
  );

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

export const createMultipartUploads = (store: FilesystemStore) => {
  const uploadDir = (bucket: string, uploadId: string) =>
    join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);

  /** An upload exists while its `key` file does; it must name the requested key. */
  const findUpload = async (target: S3Target, uploadId: string): Promise<string> => {
    if (!UPLOAD_ID.test(uploadId) || !target.key) throw noSuchUpload();
    const dir = uploadDir(target.bucket, uploadId);
    const storedKey = await readFile(join(dir, 'key'), 'utf8').catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (storedKey !== target.key) throw noSuchUpload();
    return dir;
  };

  const listStoredParts = async (dir: string): Promise<StoredPart[]> => {
    const names = await readdir(dir);
    const present = new Set(names);
    const numbers = names
      .filter((name) => /^\d+$/.test(name) && present.has(`${name}.md5`))
      .map(Number)
      .sort((a, b) => a - b);
    const parts = await Promise.all(
      numbers.map(async (partNumber): Promise<StoredPart | undefined> => {
        try {
          const [info, md5] = await Promise.all([
            stat(join(dir, String(partNumber))),
            readFile(join(dir, `${partNumber}.md5`), 'utf8'),
          ]);
          return { partNumber, size: info.size, etag: `"${md5.trim()}"`, lastModified: info.mtime };
        } catch (error) {
          // Aborted or completed while we looked: the part is gone, as it is in S3.
          if (isMissing(error)) return undefined;
          throw error;
        }
      }),
    );
    return parts.filter((part): part is StoredPart => part !== undefined);
  };

  /** Completions and aborts of one upload run one at a time, as S3 serialises them. */
  const inFlight = new Map<string, Promise<unknown>>();
  const serialised = async <T>(uploadId: string, work: () => Promise<T>): Promise<T> => {
    const previous = inFlight.get(uploadId) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(work);
    inFlight.set(uploadId, mine);
    try {
      return await mine;
    } finally {
      if (inFlight.get(uploadId) === mine) inFlight.delete(uploadId);
    }
  };

  const listParts = async (ctx: KoaContext, target: S3Target, uploadId: string) => {
    const dir = await findUpload(target, uploadId);
    const maxParts = integerParam(ctx, 'max-parts', MAX_PARTS_PER_LISTING, 0, Number.MAX_SAFE_INTEGER);
    const marker = integerParam(ctx, 'part-number-marker', 0, 0, 10_000);
    const after = (await listStoredParts(dir)).filter((part) => part.partNumber > marker);
    const page = after.slice(0, Math.min(maxParts, MAX_PARTS_PER_LISTING));
    const owner = { ID: 'S3rver', DisplayName: 'S3rver' };
    ctx.body = {
      ListPartsResult: {
        '@': { xmlns: S3_XMLNS },
        Bucket: target.bucket,
        Key: target.key,
        UploadId: uploadId,
        Initiator: owner,
        Owner: owner,
        StorageClass: 'STANDARD',
        PartNumberMarker: marker,
        NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
        MaxParts: Math.min(maxParts, MAX_PARTS_PER_LISTING),
        IsTruncated: after.length > page.length,
        Part: page.map((part) => ({
          PartNumber: part.partNumber,
          LastModified: part.lastModified.toISOString(),
          ETag: part.etag,
          Size: part.size,
        })),
      },
    };
  };

  const abort = async (ctx: KoaContext, target: S3Target, uploadId: string) => {
    const dir = await findUpload(target, uploadId);
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = null;
  };

  const guardUploadPart = async (ctx: KoaContext, target: S3Target, uploadId: string) => {
    const partNumber = Number(firstQueryValue(ctx.query.partNumber));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
        ArgumentName: 'partNumber',
        ArgumentValue: String(firstQueryValue(ctx.query.partNumber)),
      });
    }
    await findUpload(target, uploadId);
  };

  /** Checks the part list against what is stored, then hands s3rver the same body. */
  const guardComplete = async (ctx: KoaContext, target: S3Target, uploadId: string) => {
    const dir = await findUpload(target, uploadId);
    const body = await readLimited(ctx.req, MAX_COMPLETE_BODY);
    const requested = parseCompleteParts(body.toString('utf8'));
    const stored = new Map((await listStoredParts(dir)).map((part) => [part.partNumber, part]));
    const digests: Buffer[] = [];
    requested.forEach((part, index) => {
      const previous = requested[index - 1];
      if (previous && previous.partNumber >= part.partNumber) {
        throw new S3Error(
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
        );
      }
      const found = stored.get(part.partNumber);
      if (!found || found.etag !== part.etag) throw invalidPart();
      digests.push(Buffer.from(found.etag.replace(/"/g, ''), 'hex'));
      if (index < requested.length - 1 && found.size < MIN_PART_SIZE) {
        throw new S3Error(
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size.',
          {
            ProposedSize: found.size,
            MinSizeAllowed: MIN_PART_SIZE,
            PartNumber: part.partNumber,
          },
        );
      }
    });
    ctx.req = Readable.from([body]);
    return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
  };

  /** Makes sure the response and object.md5 carry the S3 multipart ETag (multipart-objects.ts already stores it). */
  const applyMultipartEtag = async (ctx: KoaContext, target: S3Target, etag: string) => {
    const result = (ctx.body as { CompleteMultipartUploadResult?: { ETag?: string } } | null)
      ?.CompleteMultipartUploadResult;
    if (!result || !target.key) return;
    await writeFile(store.getResourcePath(target.bucket, target.key, 'object.md5'), etag);
    result.ETag = JSON.stringify(etag);
  };

  /** Runs before s3rver's router; everything it does not own passes through untouched. */
  const middleware = (
    authenticate: KoaMiddleware,
    describe: (ctx: KoaContext) => { target?: S3Target; operation: S3Operation },
  ): KoaMiddleware =>
    async function gsmMultipart(ctx: KoaContext, next: KoaNext) {
      const { target, operation } = describe(ctx);
      const uploadId = firstQueryValue(ctx.query.uploadId);
      if (!target?.key || uploadId === undefined) return next();
      const authenticated = async (work: () => Promise<unknown>) => {
        ctx.params = { ...ctx.params, bucket: target.bucket, key: target.key };
        await authenticate(ctx, async () => work());
      };
      switch (operation) {
        case 'ListParts':
          return authenticated(() => listParts(ctx, target, uploadId));
        case 'AbortMultipartUpload':
          return authenticated(() => serialised(uploadId, () => abort(ctx, target, uploadId)));
        case 'UploadPart':
          return authenticated(async () => {
            await guardUploadPart(ctx, target, uploadId);
            await next();
          });
        case 'CompleteMultipartUpload':
          return authenticated(() =>
            serialised(uploadId, async () => {
              const etag = await guardComplete(ctx, target, uploadId);
              ctx.state[MULTIPART_ETAG_STATE] = etag;
              await next();
              await applyMultipartEtag(ctx, target, etag);
            }),
          );
        default:
          return next();
      }
    };

  return { middleware, listStoredParts, findUpload };
};

const integerParam = (ctx: KoaContext, name: string, fallback: number, min: number, max: number): number => {
  const raw = firstQueryValue(ctx.query[name]);
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  }
  return value;
};

const readLimited = async (stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > limit) throw new S3Error('MaxMessageLengthExceeded', 'Your request was too big.');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
};

const XML_ENTITIES: Record<string, string> = {
  '&quot;': '"',
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&apos;': "'",
};

/** Only PartNumber and ETag matter here; s3rver parses the full document afterwards. */
export const parseCompleteParts = (xml: string): { partNumber: number; etag: string }[] => {
  const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, inner = '']) => {
    const partNumber = Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1]);
    const rawEtag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (!Number.isInteger(partNumber) || rawEtag === undefined) throw malformedXml();
    const etag = rawEtag.replace(/&(quot|amp|lt|gt|apos);/g, (entity) => XML_ENTITIES[entity] ?? entity);
    return { partNumber, etag: `"${etag.replace(/"/g, '').trim().toLowerCase()}"` };
  });
  if (parts.length === 0) throw malformedXml();
  return parts;
};

const malformedXml = () =>
  new S3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema.',
  );
