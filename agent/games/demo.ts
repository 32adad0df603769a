import { GameDefinition } from './definitions.js';

/**
 * The demo game (local/demo-game): a Node program that answers Quake 3 queries like
 * CoD4x and reads its player count from a control file. `node` is found on the PATH the
 * supervisor gives the game.
 */
export const demo: GameDefinition = GameDefinition.parse({
  name: 'demo',
  displayName: 'gsm demo game',
  executable: 'node',
  args: [
    'server.mjs',
    '--host',
    '{host}',
    '--port',
    '{port}',
    '--control',
    '{control}',
    '--maxplayers',
    '{maxplayers}',
  ],
  defaultPort: 28960,
  maxPlayers: 16,
  stop: { kind: 'signal', signal: 'SIGTERM' },
  stopGraceMs: 5000,
  health: { kind: 'gamedig', type: 'protocol-quake3', timeoutMs: 1500 },
  ports: [{ name: 'game', protocol: 'udp', offset: 0 }],
  actions: ['install', 'start', 'stop', 'restart', 'status', 'rollback', 'uninstall'],
});
