import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { hc } from 'hono/client';
import { z } from 'zod';
import type { AppType } from '../functions/api/app.js';
import type { ApiConfig } from './config.js';
import { ApiError, UserError } from './errors.js';

/**
 * The only module that talks HTTP to the API. Paths, inputs and outputs come from the API's
 * own route types (`hc<AppType>`), so a route change that breaks the CLI breaks `tsc`.
 */

const Problem = z.object({
  error: z.string(),
  code: z.string(),
  requestId: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

interface AnyResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  json(): Promise<unknown>;
}

/** The body type of a response union's success members. */
type Success<R> = R extends { ok: true; json(): Promise<infer T> } ? T : never;

const hintFor = (status: number, config: ApiConfig, requestId: string | undefined): string | undefined => {
  switch (status) {
    case 401:
      return `the API key from ${config.sources.apiKey} was not accepted; check it, or ask an admin for one (\`gsm keys create\`)`;
    case 403:
      return 'ask an admin for a key with the role this needs';
    default:
      return status >= 500 && requestId
        ? `the server failed; its log has request id ${requestId}`
        : undefined;
  }
};

const toApiError = async (response: AnyResponse, config: ApiConfig): Promise<ApiError> => {
  const body = await response.json().catch(() => undefined);
  const problem = Problem.safeParse(body);
  if (!problem.success) {
    // Not the API's own error shape: a proxy, or not a gsm endpoint at all.
    return new ApiError(`HTTP ${response.status} ${response.statusText} from ${config.endpoint}`, {
      status: response.status,
      code: 'E_HTTP',
      hint: `is ${config.endpoint} (from ${config.sources.endpoint}) a gsm API?`,
    });
  }
  const { error, code, requestId, issues } = problem.data;
  return new ApiError(error, {
    status: response.status,
    code,
    requestId,
    issues,
    hint: hintFor(response.status, config, requestId),
  });
};

/** Failures that usually mean nothing is serving the endpoint. */
const NOT_LISTENING = new Set(['ECONNREFUSED', 'ECONNRESET']);

/** What went wrong on the network, when `send` failed there rather than in our own code. */
const networkFailure = (error: unknown): string | undefined => {
  // undici reports every network failure as a TypeError whose cause is the socket error
  // (ECONNREFUSED, ENOTFOUND ...) or its own refusal (a blocked port, a bad URL).
  if (!(error instanceof TypeError) || !(error.cause instanceof Error)) return undefined;
  const { code } = error.cause as NodeJS.ErrnoException;
  return typeof code === 'string' ? code : error.cause.message;
};

export type ApiClient = ReturnType<typeof createApiClient>;

export const createApiClient = (config: ApiConfig) => {
  const api = hc<AppType>(config.endpoint, {
    headers: { authorization: `Bearer ${config.apiKey}` },
  }).v1;

  /** Sends, then returns the successful response or throws ApiError / UserError. */
  const open = async <R extends AnyResponse>(send: () => Promise<R>): Promise<R> => {
    let response: R;
    try {
      response = await send();
    } catch (error) {
      const failure = networkFailure(error);
      if (failure === undefined) throw error;
      const where = `endpoint ${config.endpoint} (from ${config.sources.endpoint})`;
      const hint = NOT_LISTENING.has(failure) ? `is \`gsm dev\` running? ${where}` : `check the ${where}`;
      throw new UserError(`cannot reach the gsm API at ${config.endpoint} (${failure})`, {
        cause: error,
        hint,
      });
    }
    if (!response.ok) throw await toApiError(response, config);
    return response;
  };

  /** Sends, then returns the success body or throws ApiError / UserError. */
  const call = async <R extends AnyResponse>(send: () => Promise<R>): Promise<Success<R>> => {
    const response = await open(send);
    // 204 has no body; every other success is JSON.
    if (response.status === 204) return undefined as Success<R>;
    return (await response.json()) as Success<R>;
  };

  type HostQuery = Parameters<typeof api.hosts.$get>[0]['query'];
  type HostInput = Parameters<typeof api.hosts.$post>[0]['json'];
  type HostPatch = Parameters<(typeof api.hosts)[':id']['$patch']>[0]['json'];
  type GameInput = Parameters<typeof api.games.$post>[0]['json'];
  type KeyInput = Parameters<typeof api.keys.$post>[0]['json'];
  type PackageInput = Parameters<typeof api.packages.$post>[0]['json'];
  type PackageQuery = Parameters<typeof api.packages.$get>[0]['query'];
  type UploadQuery = Parameters<(typeof api.packages)[':id']['upload']['$get']>[0]['query'];
  type CompleteInput = Parameters<(typeof api.packages)[':id']['complete']['$post']>[0]['json'];
  type ActionInput = Parameters<typeof api.actions.$post>[0]['json'];
  type ReleaseInput = Parameters<typeof api.releases.$post>[0]['json'];
  type Decision = { reason?: string };
  type Cursor = string | undefined;

  return {
    endpoint: config.endpoint,
    health: () => call(() => api.health.$get()),
    hosts: {
      list: (query: HostQuery) => call(() => api.hosts.$get({ query })),
      create: (json: HostInput) => call(() => api.hosts.$post({ json })),
      get: (id: string) => call(() => api.hosts[':id'].$get({ param: { id } })),
      /** With `ifRevision`, refused (409) if the host is no longer at that revision. */
      update: (id: string, json: HostPatch, ifRevision?: number) =>
        call(() =>
          api.hosts[':id'].$patch({
            param: { id },
            header: ifRevision === undefined ? {} : { 'if-match': `"${ifRevision}"` },
            json,
          }),
        ),
      remove: (id: string) => call(() => api.hosts[':id'].$delete({ param: { id } })),
    },
    games: {
      list: (cursor: Cursor) => call(() => api.games.$get({ query: { cursor } })),
      create: (json: GameInput) => call(() => api.games.$post({ json })),
    },
    packages: {
      list: (query: PackageQuery) => call(() => api.packages.$get({ query })),
      get: (id: string) => call(() => api.packages[':id'].$get({ param: { id } })),
      create: (json: PackageInput) => call(() => api.packages.$post({ json })),
      upload: (id: string, query: UploadQuery = {}) =>
        call(() => api.packages[':id'].upload.$get({ param: { id }, query })),
      complete: (id: string, json: CompleteInput) =>
        call(() => api.packages[':id'].complete.$post({ param: { id }, json })),
      remove: (id: string) => call(() => api.packages[':id'].$delete({ param: { id } })),
    },
    actions: {
      /** With a key, a retried start returns the first action instead of running it twice. */
      start: (json: ActionInput, idempotencyKey?: string) =>
        call(() => api.actions.$post({ json, header: { 'idempotency-key': idempotencyKey } })),
      list: (cursor: Cursor) => call(() => api.actions.$get({ query: { cursor } })),
      get: (id: string) => call(() => api.actions[':id'].$get({ param: { id } })),
    },
    releases: {
      /** With a key, a retried create returns the first release instead of starting another. */
      create: (json: ReleaseInput, idempotencyKey?: string) =>
        call(() => api.releases.$post({ json, header: { 'idempotency-key': idempotencyKey } })),
      list: (cursor: Cursor) => call(() => api.releases.$get({ query: { cursor } })),
      get: (id: string) => call(() => api.releases[':id'].$get({ param: { id } })),
      approve: (id: string, json: Decision = {}) =>
        call(() => api.releases[':id'].approve.$post({ param: { id }, json })),
      reject: (id: string, json: Decision = {}) =>
        call(() => api.releases[':id'].reject.$post({ param: { id }, json })),
      cancel: (id: string, json: Decision = {}) =>
        call(() => api.releases[':id'].cancel.$post({ param: { id }, json })),
      rollback: (id: string, json: Decision = {}) =>
        call(() => api.releases[':id'].rollback.$post({ param: { id }, json })),
      /** The release's Server-Sent Events stream (`release`, `job`, `end`), as a byte stream. */
      events: async (id: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> => {
        const response = await open(() =>
          api.releases[':id'].events.$get({ param: { id } }, { init: { signal } }),
        );
        if (!response.body) throw new UserError(`the event stream of release '${id}' has no body`);
        return response.body;
      },
    },
    keys: {
      list: (cursor: Cursor) => call(() => api.keys.$get({ query: { cursor } })),
      create: (json: KeyInput) => call(() => api.keys.$post({ json })),
      revoke: (id: string) => call(() => api.keys[':id'].$delete({ param: { id } })),
    },
  };
};

/** Every item of a paged list, following `next` until the last page. */
export const collectPages = async <T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>,
): Promise<T[]> => {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  return items;
};

export type HostQuery = Parameters<ApiClient['hosts']['list']>[0];
export type NewHost = Parameters<ApiClient['hosts']['create']>[0];
export type NewGame = Parameters<ApiClient['games']['create']>[0];
export type PublicHostView = Awaited<ReturnType<ApiClient['hosts']['get']>>;
export type GameView = Awaited<ReturnType<ApiClient['games']['list']>>['items'][number];
export type KeyView = Awaited<ReturnType<ApiClient['keys']['list']>>['items'][number];

export type PackageView = Awaited<ReturnType<ApiClient['packages']['get']>>;
export type UploadView = Awaited<ReturnType<ApiClient['packages']['upload']>>;

/** Kept-alive connections to S3 for the part PUTs; idle ones do not hold the process open. */
const PART_AGENTS = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * PUTs one part to a presigned S3 URL (not the gsm API) and returns its ETag. node:http writes
 * the part buffer to the socket as it is (fetch copies it), which keeps push's memory at a few
 * parts. The URL came from the API, so an HTTP error is S3 refusing it: expired (403) or the
 * upload gone (404).
 */
export const putPart = (url: string, body: Uint8Array): Promise<string> =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'PUT',
        agent: secure ? PART_AGENTS.https : PART_AGENTS.http,
        headers: { 'content-length': body.byteLength },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(String(res.headers.etag ?? '').replace(/^"|"$/g, ''));
            return;
          }
          const text = Buffer.concat(chunks).toString('utf8');
          const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${status}`;
          reject(
            new UserError(`S3 refused a part upload: ${code}`, {
              hint: 'run the same push again: it resumes with fresh URLs',
            }),
          );
        });
      },
    );
    req.on('error', (error) =>
      reject(
        new UserError(`cannot upload a part to ${target.host}: ${error.message}`, {
          cause: error,
          hint: 'run the same push again: it resumes',
        }),
      ),
    );
    req.end(body);
  });
export type NewAction = Parameters<ApiClient['actions']['start']>[0];
export type ActionView = Awaited<ReturnType<ApiClient['actions']['start']>>;
export type ActionDetailView = Awaited<ReturnType<ApiClient['actions']['get']>>;
export type NewRelease = Parameters<ApiClient['releases']['create']>[0];
export type ReleaseView = Awaited<ReturnType<ApiClient['releases']['create']>>;
export type ReleaseDetailView = Awaited<ReturnType<ApiClient['releases']['get']>>;
