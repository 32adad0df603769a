import { GameDefinition } from './definitions.js';

/**
 * Call of Duty 4 with the CoD4x server. The engine joins its argv into one command line and
 * splits it on `+`, which is why renderArgs only accepts plain values for placeholders.
 * CoD4x answers Quake 3 `getstatus`, and writes `quit` on its console as a clean stop.
 */
export const cod4x: GameDefinition = GameDefinition.parse({
  name: 'cod4x',
  displayName: 'Call of Duty 4 (CoD4x)',
  executable: './cod4x18_dedrun',
  args: [
    '+set',
    'dedicated',
    '2',
    '+set',
    'net_ip',
    '{host}',
    '+set',
    'net_port',
    '{port}',
    '+set',
    'sv_maxclients',
    '{maxplayers}',
    '+exec',
    '{config}',
    '+map_rotate',
  ],
  defaultPort: 28960,
  maxPlayers: 32,
  defaultConfig: 'server.cfg',
  stop: { kind: 'command', command: 'quit' },
  stopGraceMs: 30_000,
  health: { kind: 'gamedig', type: 'protocol-quake3', timeoutMs: 3000 },
  ports: [{ name: 'game', protocol: 'udp', offset: 0 }],
  actions: ['install', 'start', 'stop', 'restart', 'status', 'rollback', 'uninstall'],
});
