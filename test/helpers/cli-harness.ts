import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll } from 'vitest';
import { startTestApi, type TestApi } from './api.js';

/**
 * The real `gsm` (run from source through tsx, as a child process) against the real API on a
 * loopback port, over a real store on dynalite. Each run gets a fresh temporary working
 * directory and only the environment given here, so nothing leaks in from the developer's
 * shell or a `.gsm/dev.json` in the repository.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'cli', 'entry.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

export let api: TestApi;
let server: ServerType;
export let endpoint: string;
export let scratch: string;
/** Every request the API received, `METHOD /path`: proves when the CLI sent none. */
export const requests: string[] = [];

export const gsmIn = (cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, ENTRY, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });

/** `gsm` with the admin key and the test API in the environment, unless `options` say otherwise. */
export const gsm = (args: readonly string[], options: RunOptions = {}): Promise<Run> =>
  gsmIn(options.cwd ?? scratch, args, options.env ?? { GSM_ENDPOINT: endpoint, GSM_API_KEY: api.keys.admin });

export const tempDir = () => mkdtemp(join(tmpdir(), 'gsm-cli-'));

export const writeDevFile = async (dir: string, contents: Record<string, unknown>) => {
  await mkdir(join(dir, '.gsm'), { recursive: true });
  await writeFile(join(dir, '.gsm', 'dev.json'), JSON.stringify(contents));
};

/** A loopback port nothing listens on. */
export const closedPort = async (): Promise<number> => {
  const probe = serve({ fetch: () => new Response(null), port: 0, hostname: '127.0.0.1' });
  await new Promise((ready) => probe.once('listening', ready));
  const { port } = probe.address() as AddressInfo;
  await new Promise((closed) => probe.close(closed));
  return port;
};

/** Registers the file's hooks: one API server and scratch folder per test file. */
export const useCliHarness = (): void => {
  beforeAll(async () => {
    api = await startTestApi();
    server = serve({
      fetch: (request, env) => {
        requests.push(`${request.method} ${new URL(request.url).pathname}`);
        return api.app.fetch(request, env);
      },
      port: 0,
      hostname: '127.0.0.1',
    });
    await new Promise((ready) => server.once('listening', ready));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    scratch = await tempDir();
  });

  afterAll(async () => {
    await new Promise((closed) => server?.close(closed));
    await api?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
};
