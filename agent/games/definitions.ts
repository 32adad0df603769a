import { z } from 'zod';
import { Id, Port, StopMethod } from '../../core/model/index.js';

/**
 * A game definition is data (like LinuxGSM's per-game configs): how to launch the server,
 * how to stop it, how to ask it whether it is healthy, and which actions a network peer may
 * ask for. Nothing in it is ever handed to a shell.
 */

/** Actions a definition may allow for its instances; the agent refuses any other. */
export const GAME_ACTIONS = [
  'install',
  'start',
  'stop',
  'restart',
  'status',
  'rollback',
  'uninstall',
] as const;
export type GameAction = (typeof GAME_ACTIONS)[number];
export const isGameAction = (value: string): value is GameAction =>
  (GAME_ACTIONS as readonly string[]).includes(value);

/** The only names `{...}` may hold in an argument template. */
export const PLACEHOLDERS = ['port', 'maxplayers', 'config', 'control', 'host'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const PLACEHOLDER_RE = /\{([^{}]*)\}/g;

/** Every `{name}` in a template is a known placeholder and braces are balanced. */
export const templateProblem = (template: string): string | undefined => {
  for (const match of template.matchAll(PLACEHOLDER_RE)) {
    const name = match[1] ?? '';
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) return `unknown placeholder {${name}}`;
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER_RE, ''))) return 'unbalanced "{" or "}"';
  if (template.includes('\0')) return 'NUL byte';
  return undefined;
};

const ArgTemplate = z
  .string()
  .max(255)
  .superRefine((value, ctx) => {
    const problem = templateProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The executable is a path inside the release (`./cod4x18_dedrun`) or a bare program name. */
const Executable = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(\.\/)?[A-Za-z0-9_][A-Za-z0-9._/-]*$/, 'a program name or ./relative/path without ".."')
  .refine((value) => !value.split('/').includes('..'), 'must not contain ".."');

export const HealthCheck = z.discriminatedUnion('kind', [
  /** A game query through gamedig; `type` is a gamedig game id or `protocol-<name>`. */
  z.object({
    kind: z.literal('gamedig'),
    type: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9-]+$/),
    timeoutMs: z.number().int().min(100).max(60_000).default(2000),
  }),
  /** Only checks that the port accepts a TCP connection. */
  z.object({ kind: z.literal('tcp'), timeoutMs: z.number().int().min(100).max(60_000).default(2000) }),
]);
export type HealthCheck = z.infer<typeof HealthCheck>;

export const PortSpec = z.object({
  name: z.string().min(1).max(32),
  protocol: z.enum(['udp', 'tcp']),
  /** Relative to the instance's port, so several instances can sit side by side. */
  offset: z.number().int().min(-1000).max(1000).default(0),
});

export const GameDefinition = z.object({
  name: Id,
  displayName: z.string().min(1).max(100),
  executable: Executable,
  args: z.array(ArgTemplate).max(64),
  defaultPort: Port,
  maxPlayers: z.number().int().min(1).max(1024),
  /** Used for {config} when an instance names none. */
  defaultConfig: z.string().max(255).optional(),
  stop: StopMethod,
  stopGraceMs: z.number().int().min(0).max(3_600_000),
  health: HealthCheck,
  /** Which of the instance's ports the query goes to, as an offset from the instance port. */
  queryPortOffset: z.number().int().min(-1000).max(1000).default(0),
  ports: z.array(PortSpec).min(1).max(16),
  actions: z.array(z.enum(GAME_ACTIONS)).min(1),
});
export type GameDefinition = z.infer<typeof GameDefinition>;
export type GameDefinitionInput = z.input<typeof GameDefinition>;

/** Values a game instance gives to its definition's argument template. */
export const InstanceSpec = z.object({
  /** Unique on the host; names the instance's folder. */
  name: Id,
  game: Id,
  port: Port,
  /** Address the server binds and is queried on. */
  host: z.string().min(1).max(255).default('127.0.0.1'),
  maxPlayers: z.number().int().min(1).max(1024).optional(),
  config: z.string().min(1).max(255).optional(),
  /** Absolute path of the demo game's control file (or any per-instance file a game reads). */
  control: z.string().min(1).max(1024).optional(),
});
export type InstanceSpec = z.infer<typeof InstanceSpec>;
export type InstanceSpecInput = z.input<typeof InstanceSpec>;
