import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../core/log.js';
import type { Operation } from './api.js';
import { SfnError } from './errors.js';

const TARGET_PREFIX = 'AWSStepFunctions.';
/** Far above the API's 256 KiB payload limits; a guard against runaway bodies, not a quota. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const send = (res: ServerResponse, status: number, body: unknown): void => {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SfnError('ValidationException', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const parseBody = (text: string): Record<string, unknown> => {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SfnError('SerializationException', 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SfnError('SerializationException', 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
};

/** The awsJson1_0 transport: one POST per call, the operation named by X-Amz-Target. */
export const createSfnHttpServer = (operations: Record<string, Operation>, logger: Logger): Server =>
  createServer((req, res) => {
    // A long poll must end when its client disconnects, or it would take a task nobody receives.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    void (async () => {
      const target = req.headers['x-amz-target'];
      const op =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      try {
        if (req.method !== 'POST')
          throw new SfnError('UnknownOperationException', `${req.method ?? ''} is not supported`);
        const operation = Object.hasOwn(operations, op) ? operations[op] : undefined;
        if (!operation)
          throw new SfnError('UnknownOperationException', `Unknown operation ${String(target)}`);
        const body = parseBody(await readBody(req));
        const result = await operation(body, gone.signal);
        send(res, 200, result ?? {});
      } catch (error) {
        if (error instanceof SfnError) {
          logger.debug({ op, type: error.type, message: error.message }, 'request refused');
          send(res, 400, { __type: error.type, message: error.message });
          return;
        }
        logger.error({ err: error, op }, 'request failed');
        send(res, 500, { __type: 'InternalFailure', message: (error as Error).message });
      }
    })();
  });
