import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../helpers/api.js';

/**
 * The real `gsm` (run from source through tsx, as a child process) against the real API on a
 * loopback port, over a real store on dynalite. Each run gets a fresh temporary working
 * directory and only the environment given here, so nothing leaks in from the developer's
 * shell or a `.gsm/dev.json` in the repository.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'cli', 'entry.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

let api: TestApi;
let server: ServerType;
let endpoint: string;
let scratch: string;
/** Every request the API received, `METHOD /path`: proves when the CLI sent none. */
const requests: string[] = [];

const gsmIn = (cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
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
const gsm = (args: readonly string[], options: RunOptions = {}): Promise<Run> =>
  gsmIn(options.cwd ?? scratch, args, options.env ?? { GSM_ENDPOINT: endpoint, GSM_API_KEY: api.keys.admin });

const tempDir = () => mkdtemp(join(tmpdir(), 'gsm-cli-'));

const writeDevFile = async (dir: string, contents: Record<string, unknown>) => {
  await mkdir(join(dir, '.gsm'), { recursive: true });
  await writeFile(join(dir, '.gsm', 'dev.json'), JSON.stringify(contents));
};

/** A loopback port nothing listens on. */
const closedPort = async (): Promise<number> => {
  const probe = serve({ fetch: () => new Response(null), port: 0, hostname: '127.0.0.1' });
  await new Promise((ready) => probe.once('listening', ready));
  const { port } = probe.address() as AddressInfo;
  await new Promise((closed) => probe.close(closed));
  return port;
};

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

describe('gsm hosts', () => {
  it('adds a host and lists it back as JSON', async () => {
    // Act
    const added = await gsm([
      'hosts',
      'add',
      'eu-1',
      '--address',
      '10.0.0.1',
      '--tag',
      'region=eu',
      '--json',
    ]);
    const listed = await gsm(['hosts', 'list', '--json']);

    // Assess
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      id: 'eu-1',
      address: '10.0.0.1',
      port: 7420,
      role: 'game',
    });
    expect(listed.code).toBe(0);
    const hosts = JSON.parse(listed.stdout) as { id: string; tags: Record<string, string> }[];
    expect(hosts.find((h) => h.id === 'eu-1')).toMatchObject({ tags: { region: 'eu' }, protocol: 'v2' });
  });

  it('shows hosts as a table for people', async () => {
    await gsm([
      'hosts',
      'add',
      'us-1',
      '--address',
      'us-1.example.net',
      '--port',
      '7500',
      '--tag',
      'region=us',
    ]);

    const listed = await gsm(['hosts', 'list', '--tag', 'region=us']);

    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+ADDRESS\s+PORT\s+ROLE/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^us-1\s+us-1\.example\.net\s+7500\s+game\s+v2\s+unknown\s+-\s+region=us$/);
  });

  it('pages through every host matching a filter', async () => {
    // Prepare: more hosts than one page holds (the API's default page is 50)
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        api.store.hosts.create({
          id: `bulk-${String(i).padStart(2, '0')}`,
          address: `10.1.0.${i + 1}`,
          role: i % 2 === 0 ? 'game' : 'origin',
          tags: { group: 'bulk' },
        }),
      ),
    );

    const all = await gsm(['hosts', 'list', '--tag', 'group=bulk', '--json']);
    const origins = await gsm(['hosts', 'list', '--tag', 'group=bulk', '--role', 'origin', '--json']);

    expect(all.code).toBe(0);
    expect((JSON.parse(all.stdout) as unknown[]).length).toBe(60);
    const originHosts = JSON.parse(origins.stdout) as { role: string }[];
    expect(originHosts).toHaveLength(30);
    expect(originHosts.every((h) => h.role === 'origin')).toBe(true);
  });

  it('shows one host, and says 404 plainly for an unknown one', async () => {
    await gsm(['hosts', 'add', 'show-1', '--address', '10.0.0.9']);

    const shown = await gsm(['hosts', 'show', 'show-1']);
    const missing = await gsm(['hosts', 'show', 'nope']);

    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^id\s+show-1$/m);
    expect(shown.stdout).toMatch(/^address\s+10\.0\.0\.9:7420$/m);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe("error: host 'nope' does not exist\n");
  });

  it('merges tags: sets new ones, keeps the rest, removes with --remove', async () => {
    await gsm(['hosts', 'add', 'tag-1', '--address', '10.0.0.2', '--tag', 'region=eu', '--tag', 'tier=a']);

    const tagged = await gsm(['hosts', 'tag', 'tag-1', 'tier=b', 'rack=r7', '--remove', 'region', '--json']);

    expect(tagged.code).toBe(0);
    expect(JSON.parse(tagged.stdout).tags).toEqual({ tier: 'b', rack: 'r7' });
  });

  it('removes a host', async () => {
    await gsm(['hosts', 'add', 'gone-1', '--address', '10.0.0.3']);

    const removed = await gsm(['hosts', 'remove', 'gone-1']);
    const after = await gsm(['hosts', 'show', 'gone-1']);

    expect(removed.code).toBe(0);
    expect(removed.stderr).toBe("host 'gone-1' removed\n");
    expect(after.code).toBe(1);
  });

  it('reports a conflict from the API when the id is taken', async () => {
    await gsm(['hosts', 'add', 'dup-1', '--address', '10.0.0.4']);

    const again = await gsm(['hosts', 'add', 'dup-1', '--address', '10.0.0.4']);

    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*dup-1.*\n$/);
  });

  it.each([
    { case: 'a tag without =', args: ['--tag', 'region'], issue: "  --tag: 'region' is not key=value" },
    { case: 'a port out of range', args: ['--port', '70000'], issue: '  --port: Too big' },
    {
      case: 'a port that is not a number',
      args: ['--port', 'http'],
      issue: '  --port: expected a whole number',
    },
    { case: 'an unknown role', args: ['--role', 'relay'], issue: '  --role: Invalid option' },
    {
      case: 'a legacy host without its key',
      args: ['--protocol', 'legacy'],
      issue: '  --legacy-key: legacy hosts',
    },
  ])('refuses $case before sending any request', async ({ args, issue }) => {
    const before = requests.length;

    const run = await gsm(['hosts', 'add', 'bad-1', '--address', '10.0.0.5', ...args]);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error: invalid arguments to `gsm hosts add`\n');
    expect(run.stderr).toContain(issue);
    expect(run.stderr).toContain('hint: see `gsm hosts add --help`');
    expect(requests.length).toBe(before);
  });

  it('refuses a bad tag selector on list before sending any request', async () => {
    const before = requests.length;

    const run = await gsm(['hosts', 'list', '--tag', 'nokey']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--tag: 'nokey' is not key=value");
    expect(requests.length).toBe(before);
  });
});

describe('gsm games', () => {
  it('adds a game and lists it', async () => {
    const added = await gsm([
      'games',
      'add',
      'cod4x',
      '--query-protocol',
      'q3a',
      '--port',
      '28960',
      '--display-name',
      'Call of Duty 4 (CoD4x)',
      '--executable',
      'cod4x18_dedrun',
      '--arg',
      '+set',
      '--arg',
      'dedicated',
      '--json',
    ]);
    const listed = await gsm(['games', 'list']);

    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      name: 'cod4x',
      defaultPort: 28960,
      start: { executable: 'cod4x18_dedrun', args: ['+set', 'dedicated'] },
    });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^cod4x\s+Call of Duty 4 \(CoD4x\)\s+q3a\s+28960\s+32\s+cod4x18_dedrun \+set dedicated$/m,
    );
  });

  it('refuses --arg without --executable', async () => {
    const run = await gsm(['games', 'add', 'x', '--query-protocol', 'tcp', '--port', '1', '--arg', 'a']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('  --arg: --arg needs --executable');
  });
});

describe('gsm keys', () => {
  it('creates a key that works, lists it, and revokes it so it gets 401', async () => {
    // Act: create an operator key and use it
    const created = await gsm(['keys', 'create', 'ci', '--role', 'operator']);
    const key = created.stdout.trim();
    const used = await gsm(['hosts', 'list', '--json'], {
      env: { GSM_ENDPOINT: endpoint, GSM_API_KEY: key },
    });
    const listed = await gsm(['keys', 'list', '--json']);
    const info = (JSON.parse(listed.stdout) as { id: string; name: string; role: string }[]).find(
      (k) => k.name === 'ci',
    );
    const revoked = await gsm(['keys', 'revoke', info?.id ?? 'missing']);
    const refused = await gsm(['hosts', 'list'], { env: { GSM_ENDPOINT: endpoint, GSM_API_KEY: key } });

    // Assess
    expect(created.code).toBe(0);
    expect(key).toMatch(/^\S{20,}$/);
    expect(created.stderr).toContain('warning: this is the only time the key is shown');
    expect(used.code).toBe(0);
    expect(info).toMatchObject({ role: 'operator' });
    expect(listed.stdout).not.toContain(key);
    expect(revoked.code).toBe(0);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .+\nhint: the API key from GSM_API_KEY was not accepted/);
  });

  it('refuses an unknown role', async () => {
    const run = await gsm(['keys', 'create', 'x', '--role', 'root']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('  --role: Invalid option');
  });

  it('tells a viewer which role a change needs', async () => {
    const run = await gsm(['hosts', 'add', 'v-1', '--address', '10.0.0.6'], {
      env: { GSM_ENDPOINT: endpoint, GSM_API_KEY: api.keys.viewer },
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: this needs the operator role.*\nhint: ask an admin/);
  });
});

describe('endpoint and key', () => {
  it('needs a key, and says where to put one, without a request', async () => {
    const before = requests.length;

    const run = await gsm(['hosts', 'list'], { env: { GSM_ENDPOINT: endpoint } });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: no API key is configured\nhint: pass --api-key or set GSM_API_KEY/);
    expect(requests.length).toBe(before);
  });

  it('needs an endpoint', async () => {
    const run = await gsm(['hosts', 'list'], { env: {} });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: no gsm API endpoint is configured');
    expect(run.stderr).toContain('hint: ');
  });

  it('shows the API’s 401 for a wrong key', async () => {
    const run = await gsm(['hosts', 'list'], { env: { GSM_ENDPOINT: endpoint, GSM_API_KEY: 'not-a-key' } });

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: .*\nhint: the API key from GSM_API_KEY was not accepted/);
  });

  it('finds .gsm/dev.json in the working directory', async () => {
    const dir = await tempDir();
    await writeDevFile(dir, { api: endpoint, apiKey: api.keys.admin, region: 'us-east-1' });

    const run = await gsm(['hosts', 'list', '--json'], { cwd: dir, env: {} });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'eu-1' })]));
    await rm(dir, { recursive: true });
  });

  it('prefers the environment to the file, and flags to the environment', async () => {
    const dir = await tempDir();
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    await writeDevFile(dir, { api: nowhere, apiKey: 'file-key' });

    const envOverFile = await gsm(['hosts', 'show', 'eu-1'], {
      cwd: dir,
      env: { GSM_ENDPOINT: endpoint, GSM_API_KEY: api.keys.admin },
    });
    const flagsOverEnv = await gsm(
      ['hosts', 'show', 'eu-1', '--endpoint', endpoint, '--api-key', api.keys.viewer],
      { cwd: dir, env: { GSM_ENDPOINT: nowhere, GSM_API_KEY: 'env-key' } },
    );
    const keyFromEnvEndpointFromFile = await gsm(['hosts', 'show', 'eu-1'], {
      cwd: dir,
      env: { GSM_API_KEY: api.keys.admin },
    });

    expect(envOverFile.code).toBe(0);
    expect(flagsOverEnv.code).toBe(0);
    expect(keyFromEnvEndpointFromFile.code).toBe(1);
    expect(keyFromEnvEndpointFromFile.stderr).toContain(`cannot reach the gsm API at ${nowhere}`);
    await rm(dir, { recursive: true });
  });

  it('hints at `gsm dev` when nothing listens at the endpoint', async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`;

    const run = await gsm(['hosts', 'list'], { env: { GSM_ENDPOINT: nowhere, GSM_API_KEY: 'k' } });

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot reach the gsm API at ${nowhere} (ECONNREFUSED)\n` +
        `hint: is \`gsm dev\` running? endpoint ${nowhere} (from GSM_ENDPOINT)\n`,
    );
  });

  it('refuses a dev file that is not JSON', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, '.gsm'));
    await writeFile(join(dir, '.gsm', 'dev.json'), '{ not json');

    const run = await gsm(['hosts', 'list'], { cwd: dir, env: {} });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('dev.json is not valid JSON');
    await rm(dir, { recursive: true });
  });
});

describe('the command line itself', () => {
  it('checks `gsm dev` options before starting anything', async () => {
    const run = await gsm(['dev', '--dynamodb', 'oracle'], { env: {} });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('  --dynamodb: Invalid option');
  });

  it('refuses an unknown command with exit 1', async () => {
    const run = await gsm(['hosts', 'lst']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown command 'lst'");
  });

  it('prints help with exit 0', async () => {
    const run = await gsm(['--help'], { env: {} });

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('hosts');
    expect(run.stdout).toContain('keys');
  });
});
