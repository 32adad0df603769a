import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../core/log.js';
import { type AgentConfigInput, loadAgentConfig, parseAgentConfig } from './config.js';
import { demo, gameCatalog, isGameError } from './games/index.js';
import { secretsFor } from './listener.js';
import { GameInstance } from './server/instance.js';

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

/** A game that is only a listening TCP port (what the release bench runs 500 of). */
const pyhttp = {
  name: 'pyhttp',
  displayName: 'python http.server',
  executable: 'python3',
  args: ['-m', 'http.server', '--bind', '{host}', '{port}'],
  defaultPort: 8000,
  maxPlayers: 1,
  stop: { kind: 'signal', signal: 'SIGTERM' },
  stopGraceMs: 2000,
  health: { kind: 'tcp' },
  ports: [{ name: 'http', protocol: 'tcp' }],
  actions: ['install', 'start', 'stop', 'status'],
};

describe('agent config: extra game definitions', () => {
  it('adds the config games to the built-ins, with the schema defaults filled in', async () => {
    const config = await parseAgentConfig(
      { ...base, games: [pyhttp], instances: [{ name: 'web', game: 'pyhttp', port: 18080 }] },
      { baseDir: dir, env: {} },
    );
    const games = gameCatalog(config.games);

    expect(games.names().sort()).toEqual(['cod4x', 'demo', 'pyhttp']);
    expect(games.get('pyhttp')).toMatchObject({
      executable: 'python3',
      health: { kind: 'tcp', timeoutMs: 2000 },
      ports: [{ name: 'http', protocol: 'tcp', offset: 0 }],
      queryPortOffset: 0,
    });
    expect(games.get('demo')).toBe(demo);
  });

  it("gives an instance of a config game that game's launch command", async () => {
    const config = await parseAgentConfig(
      { ...base, games: [pyhttp], instances: [{ name: 'web', game: 'pyhttp', port: 18080 }] },
      { baseDir: dir, env: {} },
    );
    const [spec] = config.instances;

    const instance = new GameInstance(spec!, {
      games: gameCatalog(config.games),
      dataDir: config.dataDir,
      allowRoot: true,
      healthTimeoutSec: 5,
      logger: createLogger('test', { level: 'silent' }),
    });

    expect(instance.game().name).toBe('pyhttp');
    expect(instance.launch()).toMatchObject({
      executable: 'python3',
      args: ['-m', 'http.server', '--bind', '127.0.0.1', '18080'],
    });
  });

  it('keeps each agent to its own games', async () => {
    const withPy = gameCatalog((await parseAgentConfig({ ...base, games: [pyhttp] }, { env: {} })).games);
    const without = gameCatalog((await parseAgentConfig(base, { env: {} })).games);

    expect(withPy.get('pyhttp').name).toBe('pyhttp');
    let error: unknown;
    try {
      without.get('pyhttp');
    } catch (caught) {
      error = caught;
    }
    expect(isGameError(error, 'E_UNKNOWN_GAME')).toBe(true);
  });

  it.each([
    ['a built-in name', [{ ...pyhttp, name: 'demo' }], "games.0.name: 'demo' is a built-in game"],
    ['the same name twice', [pyhttp, pyhttp], "games.1.name: game 'pyhttp' defined twice"],
    ['an unknown placeholder', [{ ...pyhttp, args: ['{password}'] }], 'games.0.args.0: unknown placeholder'],
    ['an executable outside the release', [{ ...pyhttp, executable: '../../bin/sh' }], 'games.0.executable'],
    ['an action that is not one', [{ ...pyhttp, actions: ['start', 'shell'] }], 'games.0.actions.1'],
    ['an unknown health kind', [{ ...pyhttp, health: { kind: 'http' } }], 'games.0.health'],
    ['a missing field', [{ ...pyhttp, ports: undefined }], 'games.0.ports'],
    ['a misspelt field', [{ ...pyhttp, healthcheck: { kind: 'tcp' } }], 'healthcheck'],
    ['not a list', { pyhttp }, 'games:'],
  ])('refuses a config game with %s, naming where', async (_name, games, message) => {
    const parsing = parseAgentConfig({ ...base, games }, { baseDir: dir, env: {} });

    await expect(parsing).rejects.toMatchObject({ code: 'E_CONFIG' });
    await expect(parseAgentConfig({ ...base, games }, { baseDir: dir, env: {} })).rejects.toThrow(message);
  });

  it('refuses to redefine a built-in even when the catalog is built without the config schema', () => {
    let error: unknown;
    try {
      gameCatalog([{ ...demo, executable: 'sh' }]);
    } catch (caught) {
      error = caught;
    }
    expect(isGameError(error, 'E_BAD_DEFINITION')).toBe(true);
    expect((error as Error).message).toContain("'demo' is a built-in definition");
  });
});
