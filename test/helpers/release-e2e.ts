/**
 * Shared steps of the release end-to-end tests on the real local stack (`startDevStack`): the
 * API as a client would call it, bounded waits, a demo build pushed through `gsm package push`
 * (upload, intake, staging to the demo origin) and the fleet's versions as GET /v1/hosts shows.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../cli/main.js';
import type { Host, Package, Release } from '../../core/model/index.js';
import type { ReleaseDetail } from '../../functions/api/routes/releases.js';
import { buildDemoPackages } from '../../local/demo-game/build.js';
import type { DevStack } from '../../local/dev.js';

export const TERMINAL = ['succeeded', 'failed', 'rolled_back', 'cancelled'];

export const callApi = async <T>(
  stack: DevStack,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${stack.endpoints.api}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${stack.endpoints.apiKey}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
};

export const eventually = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms: number,
): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** `gsm ...` in this process against the stack (its `.gsm/dev.json` in `cwd`). */
export const gsmDev = async (cwd: string, args: readonly string[]) => {
  const chunks = { stdout: '', stderr: '' };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => {
    chunks.stdout += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    chunks.stderr += c.toString();
  });
  const code = await main(['node', 'gsm', ...args], { env: {}, cwd, streams: { stdout, stderr } });
  return { code, ...chunks };
};

/** Builds demo `version` (healthy, or faulty on every host), pushes it and waits until it is staged. */
export const pushDemoBuild = async (
  stack: DevStack,
  cwd: string,
  version: string,
  { faulty = false }: { faulty?: boolean } = {},
): Promise<Package> => {
  const [built] = await buildDemoPackages(join(cwd, `build-${version}`), {
    versions: faulty ? [] : [version],
    faultyVersions: faulty ? [version] : [],
    formats: ['tar.gz'],
  });
  const file = join(cwd, `demo-${version}.tar.gz`);
  await copyFile(built?.file ?? '', file);
  const pushed = await gsmDev(cwd, ['package', 'push', file, '--game', 'demo', '--version', version]);
  if (pushed.code !== 0) throw new Error(`push failed: ${pushed.stderr}`);
  return eventually(
    `demo ${version} staged`,
    async () => {
      const found = await stack.store.packages.get(`demo@${version}`).catch(() => undefined);
      if (found?.state === 'rejected') throw new Error(`package rejected: ${JSON.stringify(found)}`);
      return found?.state === 'staged' ? found : undefined;
    },
    60_000,
  );
};

export const createRelease = async (stack: DevStack, body: Record<string, unknown>): Promise<Release> => {
  const created = await callApi<Release>(stack, '/v1/releases', { method: 'POST', body });
  if (created.status !== 201)
    throw new Error(`release refused: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body;
};

export const releaseDetail = async (stack: DevStack, id: string): Promise<ReleaseDetail> =>
  (await callApi<ReleaseDetail>(stack, `/v1/releases/${id}`)).body;

export const releaseEnded = (stack: DevStack, id: string, ms = 150_000): Promise<ReleaseDetail> =>
  eventually(
    `release ${id} to end`,
    async () => {
      const detail = await releaseDetail(stack, id);
      return TERMINAL.includes(detail.state) ? detail : undefined;
    },
    ms,
  );

/** Each demo host's installed demo version, as GET /v1/hosts reports it (the relay's monitor). */
export const demoVersions = async (stack: DevStack): Promise<Record<string, string | undefined>> => {
  const { body } = await callApi<{ items: Host[] }>(stack, '/v1/hosts?tag=group=demo&limit=100');
  return Object.fromEntries(
    body.items.map((host) => [host.id, host.instances.find((i) => i.name === 'demo')?.version]),
  );
};

/** Waits until GET /v1/hosts shows these versions (the monitor sweeps every 5 s). */
export const versionsBecome = (stack: DevStack, expected: Record<string, string>, ms = 30_000) =>
  eventually(
    'host versions',
    async () => {
      const versions = await demoVersions(stack);
      return Object.entries(expected).every(([id, v]) => versions[id] === v) ? versions : undefined;
    },
    ms,
  ).catch(async (error: unknown) => {
    throw new Error(`${(error as Error).message}: ${JSON.stringify(await demoVersions(stack))}`);
  });

export const deploysOf = (detail: ReleaseDetail) => detail.jobs.filter((j) => j.action === 'deploy');
export const rollbacksOf = (detail: ReleaseDetail) => detail.jobs.filter((j) => j.action === 'rollback');
