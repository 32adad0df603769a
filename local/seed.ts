import { ConflictError } from '../core/errors.js';
import type { GameInput } from '../core/model/index.js';
import type { Store } from '../core/store/types.js';

/** The games the local stack knows from the start; a restart with `--data` keeps what exists. */
export const DEMO_GAMES: readonly GameInput[] = [
  {
    name: 'cod4x',
    displayName: 'Call of Duty 4 (CoD4x)',
    queryProtocol: 'q3a',
    defaultPort: 28960,
    maxPlayers: 32,
    start: { executable: 'cod4x18_dedrun', args: ['+set', 'net_port', '{port}', '+exec', '{config}'] },
    stop: { kind: 'command', command: 'quit' },
    stopGraceSec: 30,
  },
  {
    name: 'demo',
    displayName: 'gsm demo game (answers Quake 3 status queries)',
    queryProtocol: 'q3a',
    defaultPort: 27960,
    maxPlayers: 16,
    stop: { kind: 'signal', signal: 'SIGTERM' },
    stopGraceSec: 5,
  },
];

export const seedDemo = async (store: Store): Promise<void> => {
  for (const game of DEMO_GAMES) {
    try {
      await store.games.create(game);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
};
