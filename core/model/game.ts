import { z } from 'zod';
import { Id, Port, Timestamp } from './common.js';
import { Target } from './release.js';

/**
 * How gsm asks a running game server whether it is healthy. `gamedig` types name a game
 * query protocol (CoD4x answers Quake 3 `getstatus`), `tcp` only checks the port accepts.
 */
export const QueryProtocol = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9-]+$/);

export const StopMethod = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('signal'), signal: z.enum(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP']) }),
  z.object({ kind: z.literal('command'), command: z.string().min(1).max(200) }),
]);

export const GameInput = z.object({
  name: Id,
  displayName: z.string().min(1).max(100).optional(),
  queryProtocol: QueryProtocol,
  defaultPort: Port,
  maxPlayers: z.number().int().min(1).max(1024).default(32),
  start: z
    .object({
      executable: z.string().min(1).max(255),
      args: z.array(z.string().max(255)).max(64).default([]),
    })
    .optional(),
  stop: StopMethod.default({ kind: 'signal', signal: 'SIGTERM' }),
  stopGraceSec: z.number().int().min(0).max(3600).default(30),
});
export type GameInput = z.input<typeof GameInput>;

/**
 * What happens when a package of the game has been verified and staged: with autoRelease, a
 * release of it to `target` with `strategy` starts by itself.
 */
export const ReleasePolicy = z
  .object({
    autoRelease: z.boolean(),
    target: Target,
    /** A release strategy (core/model/strategy.ts); parseStrategy checks it before it is stored. */
    strategy: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ReleasePolicy = z.infer<typeof ReleasePolicy>;

export const Game = GameInput.extend({
  policy: ReleasePolicy.optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Game = z.infer<typeof Game>;
