import { z } from 'zod';
import { type ApiClient, collectPages, type GameView } from '../../client.js';
import { defineCommand } from '../../command.js';

export const listGames = (api: ApiClient): Promise<GameView[]> =>
  collectPages((cursor) => api.games.list(cursor));

export const gamesListCommand = defineCommand({
  description: 'List game definitions',
  input: z.object({}),
  async handler(_input, { api, out, json }) {
    const games = await listGames(await api());
    if (json) {
      out.json(games);
      return;
    }
    if (games.length === 0) {
      out.info('no games yet; define one with `gsm games add`');
      return;
    }
    out.table(games, [
      { header: 'NAME', value: (g) => g.name },
      { header: 'DISPLAY NAME', value: (g) => g.displayName },
      { header: 'QUERY', value: (g) => g.queryProtocol },
      { header: 'PORT', value: (g) => g.defaultPort },
      { header: 'MAX PLAYERS', value: (g) => g.maxPlayers },
      {
        header: 'START',
        value: (g) => (g.start ? [g.start.executable, ...g.start.args].join(' ') : undefined),
      },
    ]);
  },
});
