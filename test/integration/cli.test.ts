import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  closedPort,
  endpoint,
  gsm,
  requests,
  tempDir,
  useCliHarness,
  writeDevFile,
} from '../helpers/cli-harness.js';

/**
 * The real `gsm` (from source, as a child process) against the real API on a loopback port,
 * over a real store on dynalite (test/helpers/cli-harness.ts).
 */
useCliHarness();

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
  // The host these tests read (the hosts suite, in cli-hosts.test.ts, has its own API).
  beforeAll(async () => {
    await api.store.hosts.create({ id: 'eu-1', address: '127.0.0.1', tags: { region: 'eu' } });
  });

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
