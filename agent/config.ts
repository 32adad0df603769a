import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { describeIssues } from '../core/field-issues.js';
import { GameDefinition, InstanceSpec } from './games/definitions.js';
import { gameNames, isBuiltInGame } from './games/index.js';

/**
 * `gsm agent --config FILE`: read once here, validated, and handed down. Defaults live in the
 * schema (like Wings' `default:` tags). Secrets may come from the file or, so they need not sit
 * in a world-readable config, from GSM_AGENT_SECRET / GSM_AGENT_SECRET_PREVIOUS /
 * GSM_AGENT_MASTER_SECRET; this is the only place the agent reads `process.env`.
 */
const HostId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'a host id is 1-128 of [A-Za-z0-9._:@-]');
const Secret = z.string().min(16, 'an agent secret must be at least 16 bytes');

const Secrets = z.union([
  z.object({ current: Secret, previous: Secret.optional() }).strict(),
  /** The API derives each host's secret from one master (`deriveAgentSecret`). */
  z.object({ master: Secret, previousMaster: Secret.optional() }).strict(),
]);
export type SecretsConfig = z.infer<typeof Secrets>;

const AgentInstance = InstanceSpec.extend({
  /** Per-instance health timeout; the agent-wide one otherwise. */
  healthTimeoutSec: z.number().int().min(1).max(3600).optional(),
});
export type AgentInstance = z.infer<typeof AgentInstance>;

export const AgentConfig = z
  .object({
    hostId: HostId,
    listen: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(8424),
      })
      .default({ host: '0.0.0.0', port: 8424 }),
    secrets: Secrets.optional(),
    /** PEM files; when set the agent speaks TLS and the relay pins its CA or fingerprint. */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Instances, the job journal and the desired-state file live here. */
    dataDir: z.string().min(1),
    role: z.enum(['game', 'origin']).default('game'),
    /** Origin role: where staged packages are published for hosts to download. */
    webRoot: z.string().min(1).optional(),
    instances: z.array(AgentInstance).max(64).default([]),
    /**
     * Extra game definitions (same schema as the built-ins, unknown fields refused). A built-in
     * name is refused rather than overridden, so a config can never change what `demo` or
     * `cod4x` runs without anyone noticing.
     */
    games: z.array(GameDefinition.strict()).max(64).default([]),
    keepReleases: z.number().int().min(1).max(100).default(3),
    allowRoot: z.boolean().default(false),
    drain: z
      .object({
        timeoutSec: z.number().min(0).max(86_400).default(120),
        intervalMs: z.number().int().min(50).max(60_000).default(2000),
      })
      .default({ timeoutSec: 120, intervalMs: 2000 }),
    /** A started or switched game server must answer its query within this. */
    healthTimeoutSec: z.number().min(1).max(3600).default(60),
    /** A connection that has not authenticated within this is closed. */
    handshakeTimeoutSec: z.number().min(0.1).max(120).default(10),
    /** Finished job records older than this are forgotten at start. */
    journalRetentionDays: z.number().min(1).max(365).default(14),
    /** Largest extracted release, in bytes (archive-bomb guard); the installer's default otherwise. */
    maxReleaseBytes: z.number().int().positive().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    const ports = new Set<number>();
    config.instances.forEach((instance, i) => {
      if (names.has(instance.name))
        ctx.addIssue({ code: 'custom', path: ['instances', i, 'name'], message: 'duplicate instance name' });
      if (ports.has(instance.port))
        ctx.addIssue({ code: 'custom', path: ['instances', i, 'port'], message: 'port used twice' });
      names.add(instance.name);
      ports.add(instance.port);
    });
    const games = new Set<string>();
    config.games.forEach((game, i) => {
      if (isBuiltInGame(game.name))
        ctx.addIssue({
          code: 'custom',
          path: ['games', i, 'name'],
          message: `'${game.name}' is a built-in game (${gameNames().join(', ')}) and cannot be redefined; give yours another name`,
        });
      else if (games.has(game.name))
        ctx.addIssue({
          code: 'custom',
          path: ['games', i, 'name'],
          message: `game '${game.name}' defined twice`,
        });
      games.add(game.name);
    });
    if (config.role === 'origin' && !config.webRoot)
      ctx.addIssue({ code: 'custom', path: ['webRoot'], message: 'the origin role needs a webRoot' });
  });
export type AgentConfigInput = z.input<typeof AgentConfig>;

/** The parsed config with paths made absolute and the secrets and TLS material resolved. */
export type AgentConfig = Omit<z.infer<typeof AgentConfig>, 'secrets' | 'tls'> & {
  readonly secrets: SecretsConfig;
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly file?: string;
};

const secretsFromEnv = (env: NodeJS.ProcessEnv): SecretsConfig | undefined => {
  if (env.GSM_AGENT_MASTER_SECRET) return { master: env.GSM_AGENT_MASTER_SECRET };
  if (env.GSM_AGENT_SECRET)
    return { current: env.GSM_AGENT_SECRET, previous: env.GSM_AGENT_SECRET_PREVIOUS || undefined };
  return undefined;
};

/** Validates a config object; relative paths are taken from `baseDir` (the config file's folder). */
export const parseAgentConfig = async (
  raw: unknown,
  options: { baseDir?: string; env?: NodeJS.ProcessEnv; file?: string } = {},
): Promise<AgentConfig> => {
  const parsed = AgentConfig.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(
      `invalid agent config: ${describeIssues(parsed.error, '(config)', Number.POSITIVE_INFINITY)}`,
    );
  const base = options.baseDir ?? process.cwd();
  const abs = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const config = parsed.data;
  const fromEnv = secretsFromEnv(options.env ?? process.env);
  const secrets = config.secrets ?? fromEnv;
  if (!secrets) {
    throw new ConfigError(
      'invalid agent config: no secrets (set secrets.current or secrets.master, or GSM_AGENT_SECRET)',
    );
  }
  const checked = Secrets.safeParse(secrets);
  if (!checked.success)
    throw new ConfigError(
      `invalid agent secrets: ${describeIssues(checked.error, '(config)', Number.POSITIVE_INFINITY)}`,
    );
  let tls: AgentConfig['tls'];
  if (config.tls) {
    try {
      tls = {
        cert: await readFile(abs(config.tls.cert), 'utf8'),
        key: await readFile(abs(config.tls.key), 'utf8'),
      };
    } catch (cause) {
      throw new ConfigError(`cannot read the agent's TLS certificate or key: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  return {
    ...config,
    dataDir: abs(config.dataDir),
    webRoot: config.webRoot ? abs(config.webRoot) : undefined,
    instances: config.instances.map((instance) => ({
      ...instance,
      control: instance.control ? abs(instance.control) : undefined,
    })),
    secrets: checked.data,
    tls,
    file: options.file,
  };
};

/** Reads and validates `gsm agent --config FILE` (JSON). */
export const loadAgentConfig = async (
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentConfig> => {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read the agent config ${path}: ${(cause as Error).message}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`the agent config ${path} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseAgentConfig(raw, { baseDir: dirname(path), env, file: path });
};
