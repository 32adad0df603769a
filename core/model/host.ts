import { z } from 'zod';
import { Id, Port, Tags, Timestamp, Version } from './common.js';

export const HostRole = z.enum(['game', 'origin']);
export type HostRole = z.infer<typeof HostRole>;

/** v2: the gsm agent protocol. legacy: the original platform's agents, driven during a migration. */
export const AgentProtocol = z.enum(['v2', 'legacy']);
export type AgentProtocol = z.infer<typeof AgentProtocol>;

export const HostStatus = z.enum(['unknown', 'online', 'offline']);
export type HostStatus = z.infer<typeof HostStatus>;

export const InstanceState = z.enum([
  'unknown',
  'stopped',
  'starting',
  'running',
  'stopping',
  'crashed',
  'installing',
]);

/** One game-server process on a host. */
export const GameInstance = z.object({
  name: Id,
  game: Id,
  port: Port,
  state: InstanceState.default('unknown'),
  version: Version.optional(),
  players: z.number().int().min(0).optional(),
  maxPlayers: z.number().int().min(0).optional(),
  map: z.string().max(100).optional(),
});
export type GameInstance = z.infer<typeof GameInstance>;

/** A host name or an IPv4/IPv6 literal: no scheme, no port, no path. */
export const Address = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(\[?[0-9a-fA-F:.]+\]?|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/,
    {
      message: 'an address is a host name or an IP address, without scheme or port',
    },
  );

export const HostInput = z
  .object({
    id: Id,
    address: Address,
    port: Port.default(7420),
    role: HostRole.default('game'),
    tags: Tags.default({}),
    protocol: AgentProtocol.default('v2'),
    /** Shared key of a legacy agent (md5 challenge). Never returned by the API. */
    legacyKey: z.string().min(1).max(256).optional(),
    instances: z.array(GameInstance).max(64).default([]),
  })
  .superRefine((host, ctx) => {
    if (host.protocol === 'legacy' && !host.legacyKey) {
      ctx.addIssue({ code: 'custom', path: ['legacyKey'], message: 'legacy hosts need their legacyKey' });
    }
    if (host.protocol === 'v2' && host.legacyKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['legacyKey'],
        message: 'legacyKey applies only to protocol "legacy"',
      });
    }
  });
export type HostInput = z.input<typeof HostInput>;

export const HostPatch = z
  .object({
    address: Address,
    port: Port,
    role: HostRole,
    tags: Tags,
    protocol: AgentProtocol,
    legacyKey: z.string().min(1).max(256).nullable(),
    instances: z.array(GameInstance).max(64),
  })
  .partial()
  .strict();
export type HostPatch = z.infer<typeof HostPatch>;

/** What the monitor learns from a status sweep. */
export const HostObservation = z.object({
  status: HostStatus,
  lastSeen: Timestamp.optional(),
  agentVersion: z.string().max(64).optional(),
  instances: z.array(GameInstance).max(64).optional(),
});
export type HostObservation = z.infer<typeof HostObservation>;

export const Host = z.object({
  id: Id,
  address: Address,
  port: Port,
  role: HostRole,
  tags: Tags,
  protocol: AgentProtocol,
  legacyKey: z.string().optional(),
  instances: z.array(GameInstance),
  status: HostStatus,
  lastSeen: Timestamp.optional(),
  agentVersion: z.string().optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** Record version, bumped on every write; guards read-modify-write updates. */
  revision: z.number().int().min(1),
});
export type Host = z.infer<typeof Host>;

/** What the API shows: secrets removed. */
export const PublicHost = Host.omit({ legacyKey: true }).extend({ hasLegacyKey: z.boolean() });
export type PublicHost = z.infer<typeof PublicHost>;

export const toPublicHost = ({ legacyKey, ...host }: Host): PublicHost => ({
  ...host,
  hasLegacyKey: !!legacyKey,
});

/** `region=eu` → `{region: 'eu'}`; several selectors AND together. */
export const matchesTags = (tags: Tags, selector: Tags): boolean =>
  Object.entries(selector).every(([key, value]) => tags[key] === value);
