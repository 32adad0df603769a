import { z } from 'zod';
import { GameInput, Id, QueryProtocol } from '../../../core/model/index.js';
import { IntArg, PortArg, StringList } from '../../args.js';
import type { ApiClient, GameView, NewGame } from '../../client.js';
import { defineCommand } from '../../command.js';

export const addGame = (api: ApiClient, game: NewGame): Promise<GameView> => api.games.create(game);

export const gamesAddCommand = defineCommand({
  description: 'Define a game: how to query it, its default port, how to start it',
  args: [{ name: 'name', description: 'game name: lower-case letters, digits, ".", "_" or "-"' }],
  options: [
    {
      flags: '--query-protocol <protocol>',
      description: 'how to ask a running server if it is healthy (e.g. q3a, tcp)',
    },
    { flags: '--port <port>', description: 'default game port' },
    { flags: '--display-name <name>', description: 'name shown to people' },
    { flags: '--max-players <n>', description: 'player slots (default 32)' },
    {
      flags: '--executable <path>',
      description: 'program that starts a server, relative to the release folder',
    },
    {
      flags: '--arg <arg>',
      description: 'an argument to the executable (repeat, in order)',
      repeatable: true,
    },
  ],
  input: z
    .object({
      name: Id,
      queryProtocol: z.string({ error: 'required' }).pipe(QueryProtocol),
      port: z.string({ error: 'required' }).pipe(PortArg),
      displayName: GameInput.shape.displayName,
      maxPlayers: IntArg.pipe(GameInput.shape.maxPlayers.unwrap()).optional(),
      executable: z.string().optional(),
      arg: StringList,
    })
    .superRefine((game, ctx) => {
      if (game.arg.length > 0 && game.executable === undefined) {
        ctx.addIssue({ code: 'custom', path: ['arg'], message: '--arg needs --executable' });
      }
    })
    .transform(
      ({ port, executable, arg, ...game }): z.input<typeof GameInput> => ({
        ...game,
        defaultPort: port,
        start: executable === undefined ? undefined : { executable, args: arg },
      }),
    )
    .pipe(GameInput),
  labels: { defaultPort: '--port', start: '--executable' },
  async handler(game, { api, out, json }) {
    const created = await addGame(await api(), game);
    if (json) {
      out.json(created);
      return;
    }
    out.info(`game '${created.name}' added`);
    out.details([
      ['name', created.name],
      ['display name', created.displayName],
      ['query protocol', created.queryProtocol],
      ['default port', created.defaultPort],
      ['max players', created.maxPlayers],
      ['start', created.start ? [created.start.executable, ...created.start.args].join(' ') : undefined],
      ['stop', created.stop.kind === 'signal' ? created.stop.signal : created.stop.command],
    ]);
  },
});
