import { z } from 'zod';
import { ProtocolError } from './errors.js';

/** Protocol versions this library speaks; a v3 is added here and negotiated in HELLO. */
export const PROTOCOL_VERSION = 2;
export const SUPPORTED_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/**
 * Wire type numbers (u8). Numbers are never reused: a later version adds new ones.
 * HELLO, CHALLENGE and ERROR keep their numbers in every version so that any two peers can
 * always tell each other which versions they speak.
 */
export const MESSAGE_TYPES = {
  HELLO: 0x01,
  CHALLENGE: 0x02,
  AUTH: 0x03,
  READY: 0x04,
  ERROR: 0x0f,
  PING: 0x10,
  PONG: 0x11,
  STATUS: 0x12,
  STATUS_REPLY: 0x13,
  JOB: 0x20,
  ACK: 0x21,
  PROGRESS: 0x22,
  LOG: 0x23,
  RESULT: 0x24,
  CANCEL: 0x25,
  ATTACH: 0x26,
} as const;
export type MessageName = keyof typeof MESSAGE_TYPES;
export type MessageTypeNumber = (typeof MESSAGE_TYPES)[MessageName];

const NAMES_BY_NUMBER = new Map<number, MessageName>(
  Object.entries(MESSAGE_TYPES).map(([name, value]) => [value, name as MessageName]),
);

export const messageName = (type: number): MessageName | undefined => NAMES_BY_NUMBER.get(type);

const Hex32 = z.string().regex(/^[0-9a-f]{64}$/, '32 bytes as 64 lower-case hex digits');
/** Identities are printable, bounded and unambiguous inside the handshake transcript. */
const Identity = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/);
const JobId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/);
/** An action names an entry of a game definition's allow-list: never a command line. */
const Action = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z][a-z0-9_-]*$/, 'an action is a lower-case name such as "install" or "start"');
const Version = z.number().int().min(1).max(255);

export const PAYLOAD_SCHEMAS = {
  HELLO: z.object({ version: Version, hostId: Identity, clientId: Identity, nonce: Hex32 }),
  CHALLENGE: z.object({
    version: Version,
    hostId: Identity,
    nonce: Hex32,
    /** One proof per secret the agent currently accepts (current first, then previous). */
    proofs: z.array(Hex32).min(1).max(4),
  }),
  AUTH: z.object({ proof: Hex32 }),
  READY: z.object({ version: Version }),
  ERROR: z.object({
    code: z.string().min(1).max(64),
    message: z.string().max(2000),
    supported: z.array(Version).max(16).optional(),
  }),
  PING: z.object({ id: z.number().int().nonnegative() }),
  PONG: z.object({ id: z.number().int().nonnegative() }),
  STATUS: z.object({}),
  STATUS_REPLY: z.object({ status: z.record(z.string(), z.unknown()) }),
  JOB: z.object({ jobId: JobId, action: Action, params: z.record(z.string(), z.unknown()) }),
  ACK: z.object({ jobId: JobId, status: z.enum(['accepted', 'duplicate']) }),
  PROGRESS: z.object({
    jobId: JobId,
    phase: z.string().min(1).max(64),
    bytes: z.number().int().nonnegative().optional(),
    total: z.number().int().nonnegative().optional(),
  }),
  LOG: z.object({ jobId: JobId, lines: z.array(z.string()).max(10_000) }),
  RESULT: z.discriminatedUnion('ok', [
    z.object({ jobId: JobId, ok: z.literal(true), result: z.unknown() }),
    z.object({
      jobId: JobId,
      ok: z.literal(false),
      error: z.object({ code: z.string().min(1).max(64), message: z.string().max(2000) }),
    }),
  ]),
  CANCEL: z.object({ jobId: JobId }),
  ATTACH: z.object({ jobId: JobId }),
} as const satisfies Record<MessageName, z.ZodType>;

type Payloads = { [K in MessageName]: z.infer<(typeof PAYLOAD_SCHEMAS)[K]> };
/** Empty payloads (STATUS) infer as Record<string, never>: such a message is just its type. */
type WithType<K extends MessageName, P = Payloads[K]> = P extends object
  ? string extends keyof P
    ? { type: K }
    : { type: K } & P
  : never;

/** Any message, flat: `{ type: 'JOB', jobId, action, params }`. On the wire `type` is the u8. */
export type AnyMessage = { [K in MessageName]: WithType<K> }[MessageName];
export type MessageOf<K extends MessageName> = Extract<AnyMessage, { type: K }>;

/**
 * What applications exchange once the session is up. Handshake, keepalive and ERROR are the
 * session's own business: an ERROR from the peer ends the session (see `Session.closed`).
 */
export type Message = MessageOf<
  'JOB' | 'ACK' | 'PROGRESS' | 'LOG' | 'RESULT' | 'CANCEL' | 'ATTACH' | 'STATUS' | 'STATUS_REPLY'
>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON payload of a message: its fields without `type`, as UTF-8. */
export const encodePayload = (message: AnyMessage): Buffer => {
  const { type: _type, ...fields } = message;
  return Buffer.from(JSON.stringify(fields), 'utf8');
};

/** Validates a payload against its type's schema; every failure is a ProtocolError. */
export const decodeMessage = (type: number, payload: Uint8Array): AnyMessage => {
  const name = messageName(type);
  if (name === undefined) {
    throw new ProtocolError('E_UNKNOWN_TYPE', `unknown message type 0x${type.toString(16).padStart(2, '0')}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(payload));
  } catch (error) {
    throw new ProtocolError('E_BAD_JSON', `${name} payload is not valid UTF-8 JSON`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ProtocolError('E_BAD_JSON', `${name} payload must be a JSON object`);
  }
  const parsed = PAYLOAD_SCHEMAS[name].safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ProtocolError(
      'E_BAD_MESSAGE',
      `invalid ${name}${where}: ${issue?.message ?? 'schema mismatch'}`,
    );
  }
  return { type: name, ...(parsed.data as object) } as AnyMessage;
};
