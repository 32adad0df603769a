import { describe, expect, it } from 'vitest';
import { DEMO_START } from '../../local/demo-game/build.js';
import {
  cod4x,
  demo,
  GAMES,
  GameDefinition,
  type GameDefinitionInput,
  getGame,
  InstanceSpec,
  isGameError,
  queryTargetOf,
  renderArgs,
} from './index.js';

const instance = InstanceSpec.parse({
  name: 'demo-1',
  game: 'demo',
  port: 28961,
  control: '/var/lib/gsm/instances/demo-1/control.json',
});

const withArgs = (args: string[]): GameDefinition => ({ ...demo, args });

const errorOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('game definitions', () => {
  it('ships cod4x and demo', () => {
    expect(Object.keys(GAMES).sort()).toEqual(['cod4x', 'demo']);
    expect(getGame('cod4x')).toBe(cod4x);
    expect(getGame('demo').health).toEqual({ kind: 'gamedig', type: 'protocol-quake3', timeoutMs: 1500 });
  });

  it.each(['quake', 'toString', '__proto__', '../cod4x', ''])(
    'refuses the unknown game %j with E_UNKNOWN_GAME',
    (name) => {
      const error = errorOf(() => getGame(name));
      expect(isGameError(error, 'E_UNKNOWN_GAME')).toBe(true);
    },
  );

  it('matches the start command recorded in the demo packages', () => {
    expect({ executable: demo.executable, args: demo.args }).toEqual(DEMO_START);
  });

  it('renders the demo argv for an instance', () => {
    expect(renderArgs(demo, instance)).toEqual([
      'server.mjs',
      '--host',
      '127.0.0.1',
      '--port',
      '28961',
      '--control',
      '/var/lib/gsm/instances/demo-1/control.json',
      '--maxplayers',
      '16',
    ]);
  });

  it('renders cod4x with the default config and the instance max players', () => {
    const argv = renderArgs(
      cod4x,
      InstanceSpec.parse({ name: 'a', game: 'cod4x', port: 28960, maxPlayers: 24 }),
    );
    expect(argv.join(' ')).toBe(
      '+set dedicated 2 +set net_ip 127.0.0.1 +set net_port 28960 +set sv_maxclients 24 +exec server.cfg +map_rotate',
    );
  });

  it('substitutes several placeholders inside one argument', () => {
    expect(renderArgs(withArgs(['--listen={host}:{port}']), instance)).toEqual(['--listen=127.0.0.1:28961']);
  });

  it.each([
    { args: ['{password}'], why: 'unknown placeholder' },
    { args: ['{PORT}'], why: 'placeholders are lower-case' },
    { args: ['{port'], why: 'unbalanced brace' },
    { args: ['port}'], why: 'unbalanced brace' },
    { args: ['{{port}}'], why: 'nested braces' },
    { args: ['{}'], why: 'empty placeholder' },
    { args: ['$(id)', '{env.HOME}'], why: 'anything else in braces' },
  ])('refuses the template $args ($why) with E_BAD_TEMPLATE', ({ args }) => {
    const error = errorOf(() => renderArgs(withArgs(args), instance));
    expect(isGameError(error, 'E_BAD_TEMPLATE')).toBe(true);
  });

  it('does not treat shell syntax in a template as anything but text', () => {
    expect(renderArgs(withArgs(['$(id)', '`x`', 'a;b']), instance)).toEqual(['$(id)', '`x`', 'a;b']);
  });

  it.each([
    'server.cfg +set rcon_password x',
    'server.cfg;quit',
    '-exec',
    '../../etc/passwd',
    'a"b',
    'a\nb',
    'a b',
    '+map_rotate',
  ])('refuses the injected config value %j with E_BAD_ARG_VALUE', (config) => {
    const error = errorOf(() => renderArgs(cod4x, { ...instance, game: 'cod4x', config }));
    expect(isGameError(error, 'E_BAD_ARG_VALUE')).toBe(true);
  });

  it('refuses to render a placeholder the instance has no value for', () => {
    const { control: _control, ...noControl } = instance;
    const error = errorOf(() => renderArgs(demo, noControl));
    expect(isGameError(error, 'E_BAD_ARG_VALUE')).toBe(true);
  });

  it('the schema rejects unknown placeholders and executables that climb out of the release', () => {
    const base: GameDefinitionInput = { ...demo };
    expect(GameDefinition.safeParse({ ...base, args: ['{secret}'] }).success).toBe(false);
    expect(GameDefinition.safeParse({ ...base, executable: '../../bin/sh' }).success).toBe(false);
    expect(GameDefinition.safeParse({ ...base, executable: '/bin/sh -c' }).success).toBe(false);
    expect(GameDefinition.safeParse({ ...base, actions: ['start', 'shell'] }).success).toBe(false);
    expect(GameDefinition.safeParse(base).success).toBe(true);
  });

  it('points the query at the instance port plus the definition offset', () => {
    expect(queryTargetOf({ ...demo, queryPortOffset: 2 }, instance)).toEqual({
      host: '127.0.0.1',
      port: 28963,
    });
  });
});
