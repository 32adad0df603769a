import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OriginRequest {
  readonly path: string;
  readonly range: string | undefined;
  readonly ifRange: string | undefined;
  readonly status: number;
}

export interface OriginBehaviour {
  /** Destroy the socket after this many body bytes, for the first `dropTimes` requests. */
  readonly dropAfter?: number;
  readonly dropTimes?: number;
  /** Flip a byte in the middle of every body served. */
  readonly corrupt?: boolean;
  /** Ignore Range headers and always answer 200 with the whole file. */
  readonly noRanges?: boolean;
  /** Send the headers, then nothing: a stalled origin. */
  readonly stall?: boolean;
}

export interface TestOrigin {
  readonly base: string;
  url(name: string): string;
  readonly requests: OriginRequest[];
  close(): Promise<void>;
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

/** A real HTTP origin on 127.0.0.1 serving in-memory files with Range, If-Range and ETag. */
export const startOrigin = async (
  files: ReadonlyMap<string, Buffer>,
  behaviour: OriginBehaviour = {},
): Promise<TestOrigin> => {
  const requests: OriginRequest[] = [];
  let drops = 0;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\//, '');
    const range = req.headers.range;
    const ifRange = req.headers['if-range'] as string | undefined;
    let body = files.get(path);
    const log = (status: number) => requests.push({ path, range, ifRange, status });
    if (!body) {
      log(404);
      res.writeHead(404).end('not found');
      return;
    }
    if (behaviour.corrupt) {
      body = Buffer.from(body);
      const mid = Math.floor(body.length / 2);
      body[mid] = (body[mid] ?? 0) ^ 0xff;
    }
    const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
    let start = 0;
    let status = 200;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && !behaviour.noRanges && (!ifRange || ifRange === etag)) {
      start = Number(m[1]);
      status = 206;
    }
    log(status);
    const headers: Record<string, string> = { etag, 'content-length': String(body.length - start) };
    if (status === 206) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(status, headers);
    if (behaviour.stall) {
      res.flushHeaders();
      return;
    }
    const slice = body.subarray(start);
    if (
      behaviour.dropAfter !== undefined &&
      drops < (behaviour.dropTimes ?? 1) &&
      slice.length > behaviour.dropAfter
    ) {
      drops += 1;
      res.write(slice.subarray(0, behaviour.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(slice);
  });
  const port = await listen(server);
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    url: (name) => `${base}/${name}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** A URL on a loopback port nobody listens on: connections are refused. */
export const deadOriginUrl = async (name: string): Promise<string> => {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/${name}`;
};
