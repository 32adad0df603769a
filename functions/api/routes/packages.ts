import { createRoute, z } from '@hono/zod-openapi';
import { FileName, Id, Package, Sha256, Version } from '../../../core/model/index.js';
import type { PackageObjects } from '../../../core/store/objects.js';
import type { Store } from '../../../core/store/types.js';
import type { ApiWorkflows } from '../env.js';
import { requireRole } from '../middleware/auth.js';
import { removePackage } from '../package-removal.js';
import { router } from '../router.js';
import { IdParam, jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';
import { completeUpload, createUpload, MAX_PACKAGE_SIZE, uploadStatus } from '../uploads.js';

const ListQuery = PageQuery.extend({ game: Id.optional(), version: Version.optional() }).refine(
  (q) => q.version === undefined || q.game !== undefined,
  { path: ['version'], message: 'filter by version only together with game' },
);

// `..` passes the character classes of Version and FileName; in a key or a path it must not.
const noDotDot = (s: string) => !s.includes('..');

const NewUpload = z.object({
  game: Id,
  version: Version.refine(noDotDot, 'a version cannot contain ".."'),
  fileName: FileName.refine(noDotDot, 'a file name cannot contain ".."'),
  size: z.number().int().min(1).max(MAX_PACKAGE_SIZE),
  sha256: Sha256.optional(),
});

const StoredPart = z.object({ partNumber: z.number().int(), size: z.number().int(), etag: z.string() });

const UploadStatus = z.object({
  uploadId: z.string(),
  size: z.number().int(),
  partSize: z.number().int(),
  partCount: z.number().int(),
  uploaded: z.array(StoredPart),
  urls: z.array(z.object({ partNumber: z.number().int(), url: z.string() })),
  nextPart: z.number().int().nullable(),
});

const UploadQuery = z.object({
  from: z.coerce.number().int().min(1).max(10_000).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const CompleteBody = z.object({
  sha256: Sha256.optional(),
  parts: z
    .array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(128) }))
    .max(10_000)
    .optional(),
});

const Removal = z.object({
  id: z.string(),
  state: z.enum(['removed', 'deleting']),
  /** The `unstage` action removing the origins' copies, when there were any. */
  actionId: z.string().optional(),
  origins: z.array(
    z.object({
      id: z.string(),
      hostId: z.string().optional(),
      removed: z.boolean(),
      error: z.string().optional(),
    }),
  ),
  notes: z.array(z.string()),
});

const listPackages = createRoute({
  method: 'get',
  path: '/',
  summary: 'List packages; find one by game and version',
  request: { query: ListQuery },
  responses: { 200: ok(pageOf(Package)), ...problems(400, 401) },
});

const getPackage = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One package (id: game@version)',
  request: { params: IdParam },
  responses: { 200: ok(Package), ...problems(401, 404) },
});

const createPackage = createRoute({
  method: 'post',
  path: '/',
  summary: 'Begin an upload: a package record (uploading) and presigned part URLs',
  middleware: [requireRole('operator')] as const,
  request: jsonBody(NewUpload),
  responses: {
    201: ok(z.object({ package: Package, upload: UploadStatus }), 'created'),
    ...problems(400, 401, 403, 409, 413),
  },
});

const getUpload = createRoute({
  method: 'get',
  path: '/{id}/upload',
  summary: 'Parts stored so far and fresh URLs for missing ones (resume)',
  middleware: [requireRole('operator')] as const,
  request: { params: IdParam, query: UploadQuery },
  responses: { 200: ok(UploadStatus), ...problems(400, 401, 403, 404, 409) },
});

const completePackage = createRoute({
  method: 'post',
  path: '/{id}/complete',
  summary: 'Finish the upload; intake then verifies the SHA-256. Idempotent once accepted.',
  middleware: [requireRole('operator')] as const,
  request: { params: IdParam, ...jsonBody(CompleteBody) },
  responses: { 202: ok(Package, 'accepted: intake verifies it'), ...problems(400, 401, 403, 404, 409, 413) },
});

const deletePackage = createRoute({
  method: 'delete',
  path: '/{id}',
  summary:
    'Remove a package, its object and its origin copies; refused while a release uses it or a host runs it',
  middleware: [requireRole('operator')] as const,
  request: { params: IdParam },
  responses: {
    200: ok(Removal, 'removed (origins whose copy could not be removed are listed)'),
    202: ok(Removal, 'deleting: the origin copies are still being removed; call DELETE again'),
    ...problems(401, 403, 404, 409),
  },
});

export const packageRoutes = (store: Store, objects: PackageObjects, workflows?: ApiWorkflows) => {
  const deps = { store, objects };
  return router()
    .openapi(listPackages, async (c) => c.json(await store.packages.list(c.req.valid('query')), 200))
    .openapi(getPackage, async (c) => c.json(await store.packages.get(c.req.valid('param').id), 200))
    .openapi(createPackage, async (c) => {
      const created = await createUpload(deps, c.req.valid('json'));
      c.get('logger').info({ packageId: created.package.id, size: created.package.size }, 'upload begun');
      return c.json(created, 201);
    })
    .openapi(getUpload, async (c) => {
      const pkg = await store.packages.get(c.req.valid('param').id);
      return c.json(await uploadStatus(deps, pkg, c.req.valid('query')), 200);
    })
    .openapi(completePackage, async (c) => {
      const pkg = await completeUpload(deps, c.req.valid('param').id, c.req.valid('json'));
      c.get('logger').info({ packageId: pkg.id }, 'upload completed');
      return c.json(pkg, 202);
    })
    .openapi(deletePackage, async (c) => {
      const result = await removePackage(
        { ...deps, ...(workflows ? { workflows } : {}) },
        c.req.valid('param').id,
        c.get('apiKey').id,
      );
      const logger = c.get('logger');
      if (result.state === 'deleting') {
        logger.info({ packageId: result.id, actionId: result.actionId }, 'package deleting');
        return c.json(result, 202);
      }
      const failed = result.origins.filter((o) => !o.removed);
      if (failed.length > 0)
        logger.warn({ packageId: result.id, failed }, 'package removed; origin copies left');
      else logger.info({ packageId: result.id }, 'package removed');
      return c.json(result, 200);
    });
};
