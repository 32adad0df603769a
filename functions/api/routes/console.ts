import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { Role } from '../../../core/model/index.js';
import { router } from '../router.js';
import { ok, problems } from '../schemas.js';

/**
 * The web console's static files, built by `npm run build` into dist/console. No auth here: the
 * files are public, and every data call the console makes carries the operator's key.
 */

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Names carry their content hash (console/build.mjs), so a browser may keep them for good. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed assets: always asked for again. */
const REVALIDATE = 'no-cache';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Where the built console is: next to the bundle in the Lambda (cdk copies it there), dist/console
 * when the API runs from dist/ or from the sources.
 */
export const consoleDirCandidates = (from = here): string[] => [
  join(from, 'console'),
  resolve(from, '../../../console'),
  resolve(from, '../../../dist/console'),
];

const findConsoleDir = (candidates: readonly string[]): string | undefined =>
  candidates.find((dir) => existsSync(join(dir, 'index.html')));

/** A file inside `root` named by the URL path, or undefined for anything that would leave it. */
const fileWithin = (root: string, urlPath: string): string | undefined => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = resolve(root, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`);
  return file.startsWith(root + sep) ? file : undefined;
};

const isFile = async (file: string) => (await stat(file).catch(() => undefined))?.isFile() === true;

export interface ConsoleOptions {
  /** Where index.html and assets/ are; found among consoleDirCandidates() when not given. */
  readonly dir?: string;
}

export const consoleRoutes = (options: ConsoleOptions = {}) => {
  // Looked up on each request until found: the console may be built after the API started.
  let root = options.dir;
  const app = new Hono();

  app.get('/*', async (c) => {
    root ??= findConsoleDir(consoleDirCandidates());
    if (!root || !existsSync(join(root, 'index.html'))) {
      return c.text('The console is not built: run `npm run build`.\n', 503, { 'cache-control': 'no-store' });
    }
    const base = resolve(root);
    // c.req.path is the full path: strip the mount point (/console).
    const relative = c.req.path.replace(/^\/console/, '') || '/';
    const file = relative === '/' ? undefined : fileWithin(base, relative);
    if (file && (await isFile(file))) {
      const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
      const cache = file.startsWith(join(base, 'assets') + sep) ? IMMUTABLE : REVALIDATE;
      return c.body(await readFile(file), 200, {
        'content-type': type,
        'cache-control': cache,
        ...SECURITY_HEADERS,
      });
    }
    // A missing file with an extension is a missing asset, not a page of the app.
    if (extname(relative) !== '') {
      return c.text('not found\n', 404, { 'cache-control': 'no-store' });
    }
    // Any other path is a page of the single-page app (/console/releases/…): its index.html.
    return c.body(await readFile(join(base, 'index.html')), 200, {
      'content-type': CONTENT_TYPES['.html'] as string,
      'cache-control': REVALIDATE,
      ...SECURITY_HEADERS,
    });
  });
  return app;
};

export const Session = z.object({ keyId: z.string(), name: z.string(), role: Role });

const getSession = createRoute({
  method: 'get',
  path: '/',
  summary: 'Who the calling key is: its name and role (the console shows operators their buttons)',
  responses: { 200: ok(Session), ...problems(401) },
});

/** `GET /v1/session`: checks a key (401 when it is not one) and names its role. */
export const sessionRoutes = () =>
  router().openapi(getSession, (c) => {
    const { id, name, role } = c.get('apiKey');
    return c.json({ keyId: id, name, role }, 200);
  });
