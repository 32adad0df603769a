import {
  type AgentSecret,
  clientProof,
  deriveSessionKeys,
  type FrameSealer,
  matchProof,
  type SessionKeys,
  sameBytes,
  serverProof,
  type TranscriptInput,
  handshakeTranscript as transcriptBytes,
} from './auth.js';
import { PeerError, ProtocolError, VersionError } from './errors.js';
import { encodeRawFrame, type RawFrame } from './frame.js';
import {
  type AnyMessage,
  decodeMessage,
  encodePayload,
  MESSAGE_TYPES,
  type MessageOf,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
} from './messages.js';

/**
 * The handshake as pure steps, shared by the socket drivers in connect.ts and by the README
 * example, so the documented bytes are the bytes the code sends.
 */

/** Handshake frames and pre-handshake ERRORs travel unsealed: `u32 len | u8 type | JSON`. */
export const encodePlainFrame = (message: AnyMessage): Buffer =>
  encodeRawFrame(MESSAGE_TYPES[message.type], encodePayload(message));

export const decodePlainFrame = (frame: RawFrame): AnyMessage => decodeMessage(frame.type, frame.body);

/** ERROR messages are capped at 2000 characters by the schema; longer ones are cut, not refused. */
export const errorMessage = (error: ProtocolError): MessageOf<'ERROR'> => {
  const message = error.message.slice(0, 2000);
  return error instanceof VersionError
    ? { type: 'ERROR', code: error.code, message, supported: [...error.supported] }
    : { type: 'ERROR', code: error.code, message };
};

/** What an ERROR frame from the peer becomes locally. */
export const errorFromPeer = (message: MessageOf<'ERROR'>): ProtocolError =>
  message.code === 'E_VERSION'
    ? new VersionError(PROTOCOL_VERSION, message.supported ?? [], `peer: ${message.message}`)
    : new PeerError(message.code, message.message);

export const buildHello = (hostId: string, clientId: string, nonce: Uint8Array): MessageOf<'HELLO'> => ({
  type: 'HELLO',
  version: PROTOCOL_VERSION,
  hostId,
  clientId,
  nonce: Buffer.from(nonce).toString('hex'),
});

/**
 * The first frame a server reads. Its `version` is looked at before anything else, so a
 * later HELLO with other fields still gets a clean E_VERSION and the list to retry with.
 */
export const readHello = (frame: RawFrame): MessageOf<'HELLO'> => {
  if (frame.type !== MESSAGE_TYPES.HELLO) {
    throw new ProtocolError('E_UNEXPECTED', 'the first frame must be HELLO');
  }
  let version: unknown;
  try {
    version = (JSON.parse(frame.body.toString('utf8')) as { version?: unknown }).version;
  } catch {
    version = undefined;
  }
  if (typeof version === 'number' && !SUPPORTED_VERSIONS.includes(version)) {
    throw new VersionError(version, SUPPORTED_VERSIONS);
  }
  return decodePlainFrame(frame) as MessageOf<'HELLO'>;
};

export interface ServerChallenge {
  readonly challenge: MessageOf<'CHALLENGE'>;
  readonly transcript: TranscriptInput;
}

/** CHALLENGE carries at most this many proofs (current, previous, and room to spare). */
export const MAX_CANDIDATE_SECRETS = 4;

/** One proof per candidate secret, so a client holding either of them can verify the agent. */
export const buildChallenge = (
  hello: MessageOf<'HELLO'>,
  secrets: readonly AgentSecret[],
  serverNonce: Uint8Array,
): ServerChallenge => {
  const transcript: TranscriptInput = {
    version: hello.version,
    hostId: hello.hostId,
    clientId: hello.clientId,
    clientNonce: Buffer.from(hello.nonce, 'hex'),
    serverNonce,
  };
  if (secrets.length > MAX_CANDIDATE_SECRETS) {
    throw new ProtocolError('E_CONFIG', `at most ${MAX_CANDIDATE_SECRETS} secrets may be valid at once`);
  }
  const proofs = secrets.map((secret) => serverProof(secret, transcriptBytes(transcript)).toString('hex'));
  return {
    challenge: {
      type: 'CHALLENGE',
      version: hello.version,
      hostId: hello.hostId,
      nonce: Buffer.from(serverNonce).toString('hex'),
      proofs,
    },
    transcript,
  };
};

export interface ClientAuth {
  readonly auth: MessageOf<'AUTH'>;
  readonly keys: SessionKeys;
}

/** Client side: the agent must be who we asked for and prove the secret; then we prove it. */
export const answerChallenge = (
  hello: MessageOf<'HELLO'>,
  challenge: MessageOf<'CHALLENGE'>,
  secret: AgentSecret,
): ClientAuth => {
  if (challenge.version !== hello.version) {
    throw new VersionError(
      challenge.version,
      [hello.version],
      'agent answered with another protocol version',
    );
  }
  if (challenge.hostId !== hello.hostId) {
    throw new ProtocolError(
      'E_AUTH_FAILED',
      `asked for host '${hello.hostId}', '${challenge.hostId}' answered`,
    );
  }
  if (challenge.nonce === hello.nonce) {
    throw new ProtocolError('E_AUTH_FAILED', 'agent echoed our nonce');
  }
  const transcript: TranscriptInput = {
    version: hello.version,
    hostId: hello.hostId,
    clientId: hello.clientId,
    clientNonce: Buffer.from(hello.nonce, 'hex'),
    serverNonce: Buffer.from(challenge.nonce, 'hex'),
  };
  const bytes = transcriptBytes(transcript);
  const expected = serverProof(secret, bytes);
  if (!challenge.proofs.some((proof) => sameBytes(Buffer.from(proof, 'hex'), expected))) {
    throw new ProtocolError(
      'E_AUTH_FAILED',
      `agent '${hello.hostId}' did not prove knowledge of the host secret`,
    );
  }
  return {
    auth: { type: 'AUTH', proof: clientProof(secret, bytes).toString('hex') },
    keys: deriveSessionKeys(secret, transcript),
  };
};

export interface ServerAuth {
  readonly keys: SessionKeys;
  /** 0 = the current secret, 1 = the previous one (rotation still under way). */
  readonly secretIndex: number;
}

export const verifyAuth = (
  transcript: TranscriptInput,
  secrets: readonly AgentSecret[],
  auth: MessageOf<'AUTH'>,
): ServerAuth => {
  const bytes = transcriptBytes(transcript);
  const secretIndex = matchProof(
    secrets,
    (secret) => clientProof(secret, bytes),
    Buffer.from(auth.proof, 'hex'),
  );
  if (secretIndex === -1) {
    throw new ProtocolError(
      'E_AUTH_FAILED',
      `client '${transcript.clientId}' did not prove knowledge of the host secret`,
    );
  }
  return { keys: deriveSessionKeys(secrets[secretIndex]!, transcript), secretIndex };
};

/** READY is the server's first sealed frame (seq 0): it confirms both sides hold the same keys. */
export const sealReady = (sealer: FrameSealer): Buffer =>
  sealer.seal({ type: 'READY', version: PROTOCOL_VERSION });
