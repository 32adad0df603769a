import { createRoute, z } from '@hono/zod-openapi';
import type { Page } from '../../../core/model/index.js';
import {
  HostInput,
  HostPatch,
  HostRole,
  PublicHost,
  TagKey,
  TagValue,
  toPublicHost,
} from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';
import { requireRole } from '../middleware/auth.js';
import { router } from '../router.js';
import { IdParam, jsonBody, ok, PageQuery, pageOf, problems } from '../schemas.js';
import { createSharedReads, type SharedReads } from '../shared-reads.js';

/** `?tag=region=eu&tag=group=demo`: every tag must match. */
const TagSelector = z
  .string()
  .regex(/^[^=]+=[^=]*$/, 'a tag selector is key=value')
  .transform((s) => s.split('=') as [string, string])
  .pipe(z.tuple([TagKey, TagValue]));

const ListQuery = PageQuery.extend({
  tag: z.union([TagSelector, z.array(TagSelector)]).optional(),
  role: HostRole.optional(),
});

const listHosts = createRoute({
  method: 'get',
  path: '/',
  summary: 'List hosts, sorted by id; filter by tag and role',
  description:
    "One read of each page serves every caller of this API for up to a second (refreshed in the background up to two), so a page may lag the monitor's last sweep by that much; the answer's `Age` header says by how many whole seconds. Writes through this API show at once.",
  request: { query: ListQuery },
  responses: { 200: ok(pageOf(PublicHost)), ...problems(400, 401) },
});

const createHost = createRoute({
  method: 'post',
  path: '/',
  summary: 'Register a host',
  middleware: [requireRole('operator')] as const,
  request: jsonBody(HostInput),
  responses: {
    201: ok(
      PublicHost.extend({
        agentSecret: z
          .string()
          .optional()
          .openapi({ description: "the agent's secret for its config: shown in this answer only" }),
      }),
      'created',
    ),
    ...problems(400, 401, 403, 409, 413),
  },
});

const getHost = createRoute({
  method: 'get',
  path: '/{id}',
  summary: 'One host',
  request: { params: IdParam },
  responses: { 200: ok(PublicHost), ...problems(401, 404) },
});

/** A host's revision as an ETag: `"7"` (a bare 7 is taken too); weak or listed tags are not. */
const IfMatchHeader = z.object({
  'if-match': z
    .string()
    .regex(/^("\d{1,15}"|\d{1,15})$/, 'If-Match is the host\'s revision as its ETag gives it, e.g. "7"')
    .optional(),
});

const patchHost = createRoute({
  method: 'patch',
  path: '/{id}',
  summary: 'Change a host: address, port, role, tags (replaced whole), protocol, legacyKey, instances',
  middleware: [requireRole('operator')] as const,
  description:
    'Without If-Match, the named fields are written over the host as it is then (a concurrent monitor sweep is kept). With `If-Match: "<revision>"` (the ETag of GET /v1/hosts/{id}), a host changed since that read is a 409 and nothing is written: read, merge and write back tags without losing a concurrent change.',
  request: { params: IdParam, headers: IfMatchHeader, ...jsonBody(HostPatch) },
  responses: { 200: ok(PublicHost), ...problems(400, 401, 403, 404, 409, 413) },
});

const deleteHost = createRoute({
  method: 'delete',
  path: '/{id}',
  summary: 'Forget a host',
  middleware: [requireRole('operator')] as const,
  request: { params: IdParam },
  responses: { 204: { description: 'deleted' }, ...problems(401, 403, 404) },
});

type PublicHostPage = Page<z.infer<typeof PublicHost>>;

/**
 * `pages` shares each list read among this process's callers (see `createSharedReads`); give
 * `createSharedReads({ maxAgeMs: 0, maxStaleMs: 0 })` to read the store on every call.
 */
export const hostRoutes = (
  store: Store,
  agentSecretFor?: (hostId: string) => string,
  pages: SharedReads<PublicHostPage> = createSharedReads(),
) =>
  router()
    .openapi(listHosts, async (c) => {
      const { tag, role, limit, cursor } = c.req.valid('query');
      const selectors = tag === undefined ? [] : Array.isArray(tag[0]) ? (tag as [string, string][]) : [tag];
      const tags = selectors.length > 0 ? Object.fromEntries(selectors as [string, string][]) : undefined;
      const key = JSON.stringify([selectors.toSorted(), role, limit, cursor]);
      const { value, readAt } = await pages.get(key, async () => {
        const page = await store.hosts.list({ tags, role, limit, cursor });
        return { items: page.items.map(toPublicHost), next: page.next };
      });
      c.header('Age', String(Math.max(0, Math.floor((Date.now() - readAt) / 1000))));
      return c.json(value, 200);
    })
    .openapi(createHost, async (c) => {
      const host = await store.hosts.create(c.req.valid('json'));
      pages.invalidate();
      c.get('logger').info({ hostId: host.id }, 'host registered');
      // Legacy agents authenticate with their own legacyKey; v2 agents get their secret here, once.
      const agentSecret = host.protocol === 'v2' && agentSecretFor ? agentSecretFor(host.id) : undefined;
      return c.json({ ...toPublicHost(host), ...(agentSecret ? { agentSecret } : {}) }, 201);
    })
    .openapi(getHost, async (c) => {
      const host = await store.hosts.get(c.req.valid('param').id);
      c.header('ETag', `"${host.revision}"`);
      return c.json(toPublicHost(host), 200);
    })
    .openapi(patchHost, async (c) => {
      const ifMatch = c.req.valid('header')['if-match'];
      const host = await store.hosts.update(
        c.req.valid('param').id,
        c.req.valid('json'),
        ifMatch === undefined ? {} : { ifRevision: Number(ifMatch.replaceAll('"', '')) },
      );
      c.header('ETag', `"${host.revision}"`);
      pages.invalidate();
      return c.json(toPublicHost(host), 200);
    })
    .openapi(deleteHost, async (c) => {
      const { id } = c.req.valid('param');
      await store.hosts.remove(id);
      pages.invalidate();
      c.get('logger').info({ hostId: id }, 'host removed');
      return c.body(null, 204);
    });
