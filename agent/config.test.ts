import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentConfigInput, loadAgentConfig, parseAgentConfig } from './config.js';
import { secretsFor } from './listener.js';

const base: AgentConfigInput = {
  hostId: 'host-1',
  secrets: { current: 'current-secret-0123456789' },
  dataDir: 'data',
  instances: [{ name: 'alpha', game: 'demo', port: 28960 }],
};
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gsm-agent-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agent config', () => {
  it('fills defaults from the schema and resolves paths against the config file', async () => {
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify(base));
    const config = await loadAgentConfig(file, {});
    expect(config).toMatchObject({
      listen: { host: '0.0.0.0', port: 8424 },
      role: 'game',
      keepReleases: 3,
      allowRoot: false,
      healthTimeoutSec: 60,
      dataDir: join(dir, 'data'),
    });
  });

  it.each([
    ['no secrets anywhere', { ...base, secrets: undefined }, 'no secrets'],
    ['a short secret', { ...base, secrets: { current: 'short' } }, 'at least 16'],
    [
      'two instances with one name',
      { ...base, instances: [base.instances?.[0], base.instances?.[0]] },
      'duplicate',
    ],
    ['origin role without webRoot', { ...base, role: 'origin' }, 'webRoot'],
    ['an unknown field', { ...base, allowroot: true }, 'allowroot'],
  ])('refuses %s', async (_name, raw, message) => {
    await expect(parseAgentConfig(raw, { baseDir: dir, env: {} })).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
    await expect(parseAgentConfig(raw, { baseDir: dir, env: {} })).rejects.toThrow(message);
  });

  it('takes secrets from the environment when the file has none', async () => {
    const config = await parseAgentConfig(
      { ...base, secrets: undefined },
      {
        baseDir: dir,
        env: {
          GSM_AGENT_SECRET: 'env-secret-0123456789',
          GSM_AGENT_SECRET_PREVIOUS: 'old-secret-0123456789',
        },
      },
    );
    expect(secretsFor(config)).toEqual(['env-secret-0123456789', 'old-secret-0123456789']);
  });

  it('derives the host secret from a master secret', async () => {
    const config = await parseAgentConfig(
      { ...base, secrets: { master: 'master-secret-0123456789' } },
      { baseDir: dir, env: {} },
    );
    const [secret] = secretsFor(config);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
