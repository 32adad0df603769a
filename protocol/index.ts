export {
  type AgentSecret,
  deriveAgentSecret,
  deriveSessionKeys,
  FrameOpener,
  FrameSealer,
  frameTag,
  generateAgentSecret,
  handshakeTranscript,
  NONCE_BYTES,
} from './auth.js';
export {
  acceptSessions,
  type ConnectAgentOptions,
  connectAgent,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type HandshakeContext,
  type ListenOptions,
  type SessionHandlers,
  type SessionListener,
} from './connect.js';
export {
  FrameTooLargeError,
  isProtocolError,
  isProtocolErrorCode,
  LegacyJobMismatchError,
  PeerError,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  type ProtocolErrorCode,
  VersionError,
} from './errors.js';
export {
  encodeRawFrame,
  encodeSealedFrame,
  FrameDecoder,
  MAX_FRAME_LENGTH,
  type RawFrame,
  SEALED_OVERHEAD,
} from './frame.js';
export { decodePlainFrame, encodePlainFrame } from './handshake.js';
export {
  LEGACY_COMMANDS,
  type LegacyCommand,
  type LegacyCommandOptions,
  type LegacyCommandResult,
  legacyAnswer,
  runLegacyCommand,
} from './legacy.js';
export {
  type AnyMessage,
  decodeMessage,
  encodePayload,
  MESSAGE_TYPES,
  type Message,
  type MessageName,
  type MessageOf,
  messageName,
  PAYLOAD_SCHEMAS,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
} from './messages.js';
export { Session } from './session.js';
export {
  certificateFingerprint,
  normalizeFingerprint,
  type TlsClientOptions,
  type TlsServerOptions,
} from './tls.js';
