import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../../core/log.js';

/**
 * The demo fleet's download origin: what nginx is beside an origin-role agent in production, a
 * static file server on loopback. It speaks just enough HTTP for the agent's installer: GET and
 * HEAD, `Range: bytes=N-` / `N-M` (206, resumable downloads), `If-Range` against a weak ETag
 * made of size and mtime, and 404 for anything outside its root.
 */
export interface StaticOrigin {
  readonly baseUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

const RANGE = /^bytes=(\d*)-(\d*)$/;

const resolveInside = (root: string, urlPath: string): string | undefined => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = resolve(root, `.${decoded}`);
  return file.startsWith(root + sep) ? file : undefined;
};

const serveFile = async (root: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const file = resolveInside(root, new URL(req.url ?? '/', 'http://origin').pathname);
  const info = file ? await stat(file).catch(() => undefined) : undefined;
  if (!file || !info?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const size = info.size;
  const etag = `W/"${size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    etag,
    'accept-ranges': 'bytes',
    'last-modified': info.mtime.toUTCString(),
    'content-type': 'application/octet-stream',
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = RANGE.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  if (range && (!ifRange || ifRange === etag) && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), size - 1);
    } else start = Math.max(0, size - Number(range[2]));
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['content-length'] = String(size === 0 ? 0 : end - start + 1);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await pipeline(createReadStream(file, { start, end }), res);
};

/** Serves `root` on 127.0.0.1 (`port` 0: a free one). */
export const startStaticOrigin = async (options: {
  readonly root: string;
  readonly port?: number;
  readonly logger: Logger;
}): Promise<StaticOrigin> => {
  const root = resolve(options.root);
  const server = createServer((req, res) => {
    serveFile(root, req, res).catch((err: unknown) => {
      // A client that goes away mid-body is normal for resumable downloads.
      options.logger.debug({ err, url: req.url }, 'origin request ended early');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((ready, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => ready());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
};
