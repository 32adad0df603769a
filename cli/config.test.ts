import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveApiConfig } from './config.js';
import { UserError } from './errors.js';

describe('resolveApiConfig', () => {
  let cwd: string;

  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'gsm-config-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  const writeDevFile = async (contents: string) => {
    await mkdir(join(cwd, '.gsm'));
    await writeFile(join(cwd, '.gsm', 'dev.json'), contents);
  };

  it('takes each value from flags, then the environment, then .gsm/dev.json', async () => {
    // Prepare
    await writeDevFile(JSON.stringify({ api: 'http://127.0.0.1:3', apiKey: 'file-key', s3: 'x' }));

    // Act
    const fromFile = await resolveApiConfig({ flags: {}, env: {}, cwd });
    const envKey = await resolveApiConfig({ flags: {}, env: { apiKey: 'env-key' }, cwd });
    const flagged = await resolveApiConfig({
      flags: { endpoint: 'http://127.0.0.1:1', apiKey: 'flag-key' },
      env: { endpoint: 'http://127.0.0.1:2', apiKey: 'env-key' },
      cwd,
    });

    // Assess
    expect(fromFile).toEqual({
      endpoint: 'http://127.0.0.1:3',
      apiKey: 'file-key',
      sources: { endpoint: '.gsm/dev.json', apiKey: '.gsm/dev.json' },
    });
    expect(envKey.apiKey).toBe('env-key');
    expect(envKey.sources).toEqual({ endpoint: '.gsm/dev.json', apiKey: 'GSM_API_KEY' });
    expect(flagged).toMatchObject({ endpoint: 'http://127.0.0.1:1', apiKey: 'flag-key' });
    expect(flagged.sources).toEqual({ endpoint: '--endpoint', apiKey: '--api-key' });
  });

  it.each([
    ['http://127.0.0.1:8787/', 'http://127.0.0.1:8787'],
    ['http://127.0.0.1:8787/v1', 'http://127.0.0.1:8787'],
    ['https://gsm.example.net/v1/', 'https://gsm.example.net'],
  ])('accepts the endpoint %s as %s', async (given, expected) => {
    const config = await resolveApiConfig({ flags: { endpoint: given, apiKey: 'k' }, env: {}, cwd });

    expect(config.endpoint).toBe(expected);
  });

  it.each([
    { case: 'no endpoint anywhere', env: { apiKey: 'k' }, message: 'no gsm API endpoint is configured' },
    { case: 'no key anywhere', env: { endpoint: 'http://127.0.0.1:1' }, message: 'no API key is configured' },
    {
      case: 'an endpoint that is not a URL',
      env: { endpoint: '127.0.0.1:8787', apiKey: 'k' },
      message: 'bad value from GSM_ENDPOINT',
    },
  ])('refuses $case with a hint', async ({ env, message }) => {
    const result = resolveApiConfig({ flags: {}, env, cwd });

    await expect(result).rejects.toBeInstanceOf(UserError);
    await expect(result).rejects.toThrow(message);
  });

  it('names the dev file when it is not what gsm dev writes', async () => {
    await writeDevFile(JSON.stringify({ api: 42 }));

    const error = await resolveApiConfig({ flags: {}, env: {}, cwd }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('does not look like a gsm dev file');
    expect((error as UserError).issues[0]?.path).toBe('api');
  });
});
