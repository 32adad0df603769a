import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
// The CLI from source; tsx is resolved from the repository, since the tests run in temp folders.
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const GSM = ['--import', TSX, join(ROOT, 'cli/entry.ts')];

let cwd: string;
let dev: ChildProcess;
let output = '';

const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 45_000): Promise<T> => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (dev.exitCode !== null) throw new Error(`gsm dev exited (${dev.exitCode}) before ${what}:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}:\n${output}`);
};

const gsm = (...args: string[]) =>
  run(process.execPath, [...GSM, ...args], {
    cwd,
    env: { ...process.env, GSM_ENDPOINT: '', GSM_API_KEY: '' },
  });

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'gsm-dev-proc-'));
  dev = spawn(process.execPath, [...GSM, 'dev', '--port', '0', '--no-demo'], {
    cwd,
    env: { ...process.env, GSM_API_KEY: '' },
  });
  dev.stdout?.on('data', (chunk) => (output += chunk));
  dev.stderr?.on('data', (chunk) => (output += chunk));
  await waitFor('.gsm/dev.json', async () => {
    const text = await readFile(join(cwd, '.gsm', 'dev.json'), 'utf8');
    const { api } = JSON.parse(text) as { api: string };
    return (await fetch(`${api}/v1/health`)).ok ? true : undefined;
  });
});

afterAll(async () => {
  if (dev.exitCode === null) dev.kill('SIGKILL');
  await rm(cwd, { recursive: true, force: true });
});

describe('gsm dev as a process', () => {
  it('prints its endpoints and the API key', async () => {
    await waitFor('the banner', async () => (output.includes('API key') ? true : undefined));
    const { apiKey } = JSON.parse(await readFile(join(cwd, '.gsm', 'dev.json'), 'utf8')) as {
      apiKey: string;
    };
    expect(output).toContain(apiKey);
  });

  it('round-trips gsm hosts add and gsm hosts list through the API and DynamoDB', async () => {
    await gsm('hosts', 'add', 'eu-1', '--address', '127.0.0.1', '--tag', 'region=eu');
    const { stdout } = await gsm('hosts', 'list', '--json');
    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ id: 'eu-1', tags: { region: 'eu' } })]);
    const table = await gsm('hosts', 'list');
    expect(table.stdout).toContain('eu-1');
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((done) => dev.once('exit', (code) => done(code)));
    dev.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopping');
  });
});
