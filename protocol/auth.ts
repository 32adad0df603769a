import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from './errors.js';
import { encodeSealedFrame, type RawFrame, splitSealedBody, TAG_BYTES } from './frame.js';
import { type AnyMessage, decodeMessage, encodePayload, MESSAGE_TYPES } from './messages.js';

/** A per-host secret: text is used as its UTF-8 bytes, exactly as given. */
export type AgentSecret = string | Uint8Array;

export const NONCE_BYTES = 32;
export const MIN_SECRET_BYTES = 16;

const TRANSCRIPT_LABEL = 'gsm-agent-protocol';
const SERVER_PROOF_LABEL = 'gsm/2 server proof';
const CLIENT_PROOF_LABEL = 'gsm/2 client proof';
const KEY_C2S_LABEL = 'gsm/2 key client->server';
const KEY_S2C_LABEL = 'gsm/2 key server->client';
const DERIVE_LABEL = 'gsm agent secret v1';

export const secretBytes = (secret: AgentSecret): Buffer => {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ProtocolError('E_CONFIG', `an agent secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
};

/** 32 random bytes as base64url (43 characters): shown once, then stored hashed or derived. */
export const generateAgentSecret = (): string => randomBytes(32).toString('base64url');

/**
 * A host's secret as HMAC-SHA256(master, "gsm agent secret v1" 0x00 hostId), base64url, so the
 * API can hand it out and the relay can recompute it without either storing it.
 */
export const deriveAgentSecret = (masterSecret: AgentSecret, hostId: string): string =>
  createHmac('sha256', secretBytes(masterSecret))
    .update(`${DERIVE_LABEL}\u0000${hostId}`, 'utf8')
    .digest('base64url');

export const generateNonce = (): Buffer => randomBytes(NONCE_BYTES);

/** u16 big-endian length, then the bytes: fields can never run into each other. */
const lp = (value: string | Uint8Array): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const head = Buffer.allocUnsafe(2);
  head.writeUInt16BE(bytes.length, 0);
  return Buffer.concat([head, bytes]);
};

export interface TranscriptInput {
  readonly version: number;
  readonly hostId: string;
  readonly clientId: string;
  readonly clientNonce: Uint8Array;
  readonly serverNonce: Uint8Array;
}

/** T = lp("gsm-agent-protocol") | u8 version | lp(hostId) | lp(clientId) | lp(nonceC) | lp(nonceS). */
export const handshakeTranscript = (input: TranscriptInput): Buffer =>
  Buffer.concat([
    lp(TRANSCRIPT_LABEL),
    Buffer.from([input.version]),
    lp(input.hostId),
    lp(input.clientId),
    lp(input.clientNonce),
    lp(input.serverNonce),
  ]);

/** The direction label goes first, so a server proof is never a valid client proof. */
const proof = (secret: AgentSecret, label: string, transcript: Uint8Array): Buffer =>
  createHmac('sha256', secretBytes(secret)).update(lp(label)).update(transcript).digest();

export const serverProof = (secret: AgentSecret, transcript: Uint8Array): Buffer =>
  proof(secret, SERVER_PROOF_LABEL, transcript);

export const clientProof = (secret: AgentSecret, transcript: Uint8Array): Buffer =>
  proof(secret, CLIENT_PROOF_LABEL, transcript);

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);

/**
 * Index of the first candidate whose proof matches, or -1. Every candidate is computed and
 * compared, so the time taken does not tell which secret (current or previous) matched.
 */
export const matchProof = (
  candidates: readonly AgentSecret[],
  make: (secret: AgentSecret) => Buffer,
  received: Uint8Array,
): number => {
  let found = -1;
  candidates.forEach((secret, index) => {
    if (sameBytes(make(secret), received) && found === -1) found = index;
  });
  return found;
};

export interface SessionKeys {
  readonly clientToServer: Buffer;
  readonly serverToClient: Buffer;
}

/** HKDF-SHA256(ikm = secret, salt = nonceC | nonceS, info = lp(direction label) | T), 32 bytes each. */
export const deriveSessionKeys = (secret: AgentSecret, input: TranscriptInput): SessionKeys => {
  const ikm = secretBytes(secret);
  const salt = Buffer.concat([input.clientNonce, input.serverNonce]);
  const transcript = handshakeTranscript(input);
  const key = (label: string) =>
    Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.concat([lp(label), transcript]), 32));
  return { clientToServer: key(KEY_C2S_LABEL), serverToClient: key(KEY_S2C_LABEL) };
};

const seqBytes = (seq: bigint): Buffer => {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeBigUInt64BE(seq, 0);
  return bytes;
};

/** HMAC-SHA256(key, u64 seq | u8 type | payload). */
export const frameTag = (key: Uint8Array, seq: bigint, type: number, payload: Uint8Array): Buffer =>
  createHmac('sha256', key)
    .update(seqBytes(seq))
    .update(Buffer.from([type]))
    .update(payload)
    .digest();

/** Seals outgoing messages of one direction: seq counts up from 0. */
export class FrameSealer {
  readonly #key: Buffer;
  #seq = 0n;

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** Encodes first, so a message too large to send does not use up a sequence number. */
  seal(message: AnyMessage): Buffer {
    const type = MESSAGE_TYPES[message.type];
    const payload = encodePayload(message);
    const tag = frameTag(this.#key, this.#seq, type, payload);
    const frame = encodeSealedFrame(type, this.#seq, tag, payload);
    this.#seq += 1n;
    return frame;
  }
}

/** Opens incoming frames of one direction: the tag must verify and seq must be the next one. */
export class FrameOpener {
  readonly #key: Buffer;
  #expected = 0n;

  constructor(key: Buffer) {
    this.#key = key;
  }

  open(frame: RawFrame): AnyMessage {
    const { seq, tag, payload } = splitSealedBody(frame);
    const want = frameTag(this.#key, seq, frame.type, payload);
    if (tag.length !== TAG_BYTES || !timingSafeEqual(want, tag)) {
      throw new ProtocolError('E_BAD_MAC', `frame ${seq} failed its integrity check`);
    }
    if (seq < this.#expected) {
      throw new ProtocolError('E_REPLAY', `frame ${seq} was already received (expected ${this.#expected})`);
    }
    if (seq > this.#expected) {
      throw new ProtocolError('E_SEQUENCE', `frame ${seq} arrived out of order (expected ${this.#expected})`);
    }
    this.#expected += 1n;
    return decodeMessage(frame.type, payload);
  }
}
