import { FrameTooLargeError, ProtocolError } from './errors.js';
import { messageName } from './messages.js';

/** Largest value of the length field: everything after it (type, seq, tag, JSON). */
export const MAX_FRAME_LENGTH = 1024 * 1024;
export const LENGTH_BYTES = 4;
export const TYPE_BYTES = 1;
export const SEQ_BYTES = 8;
export const TAG_BYTES = 32;
/** type + seq + tag: what a sealed frame carries before its JSON. */
export const SEALED_OVERHEAD = TYPE_BYTES + SEQ_BYTES + TAG_BYTES;

/** One frame split off the stream: `body` is every byte after the type byte. */
export interface RawFrame {
  readonly type: number;
  readonly body: Buffer;
}

/** `u32 len | u8 type | body`. */
export const encodeRawFrame = (type: number, body: Uint8Array): Buffer => {
  const length = TYPE_BYTES + body.length;
  if (length > MAX_FRAME_LENGTH) throw new FrameTooLargeError(length, MAX_FRAME_LENGTH);
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + length);
  frame.writeUInt32BE(length, 0);
  frame.writeUInt8(type, LENGTH_BYTES);
  frame.set(body, LENGTH_BYTES + TYPE_BYTES);
  return frame;
};

/** `u32 len | u8 type | u64 seq | tag[32] | payload`. */
export const encodeSealedFrame = (
  type: number,
  seq: bigint,
  tag: Uint8Array,
  payload: Uint8Array,
): Buffer => {
  if (tag.length !== TAG_BYTES) throw new ProtocolError('E_BAD_FRAME', 'a tag is 32 bytes');
  const body = Buffer.allocUnsafe(SEQ_BYTES + TAG_BYTES + payload.length);
  body.writeBigUInt64BE(seq, 0);
  body.set(tag, SEQ_BYTES);
  body.set(payload, SEQ_BYTES + TAG_BYTES);
  return encodeRawFrame(type, body);
};

export interface SealedParts {
  readonly seq: bigint;
  readonly tag: Buffer;
  readonly payload: Buffer;
}

export const splitSealedBody = (frame: RawFrame): SealedParts => {
  if (frame.body.length < SEQ_BYTES + TAG_BYTES) {
    throw new ProtocolError(
      'E_BAD_FRAME',
      `sealed frame is ${frame.body.length + 1} bytes, shorter than its header`,
    );
  }
  return {
    seq: frame.body.readBigUInt64BE(0),
    tag: frame.body.subarray(SEQ_BYTES, SEQ_BYTES + TAG_BYTES),
    payload: frame.body.subarray(SEQ_BYTES + TAG_BYTES),
  };
};

/**
 * Splits a TCP byte stream into frames, whatever the chunking. Chunks are kept in a list and
 * joined once per frame, so a 1 MiB frame arriving in small chunks is copied once, not
 * once per chunk. The length is checked as soon as the 4 header bytes are in: an oversize
 * frame fails before any of its body is held. After an error the decoder stays failed.
 */
export class FrameDecoder {
  readonly #maxLength: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failure: ProtocolError | undefined;

  constructor(maxLength = MAX_FRAME_LENGTH) {
    this.#maxLength = maxLength;
  }

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return;
    this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    this.#buffered += chunk.length;
  }

  /** The next complete frame, or undefined until more bytes arrive; throws ProtocolError. */
  next(): RawFrame | undefined {
    if (this.#failure) throw this.#failure;
    if (this.#buffered < LENGTH_BYTES) return undefined;
    const length = this.#peekLength();
    try {
      if (length > this.#maxLength) throw new FrameTooLargeError(length, this.#maxLength);
      if (length < TYPE_BYTES) throw new ProtocolError('E_BAD_FRAME', 'frame length is 0: no type byte');
    } catch (error) {
      this.#failure = error as ProtocolError;
      this.#chunks = [];
      this.#buffered = 0;
      throw error;
    }
    if (this.#buffered < LENGTH_BYTES + length) return undefined;
    const frame = this.#take(LENGTH_BYTES + length);
    const type = frame.readUInt8(LENGTH_BYTES);
    if (messageName(type) === undefined) {
      this.#failure = new ProtocolError(
        'E_UNKNOWN_TYPE',
        `unknown frame type 0x${type.toString(16).padStart(2, '0')}`,
      );
      throw this.#failure;
    }
    return { type, body: frame.subarray(LENGTH_BYTES + TYPE_BYTES) };
  }

  #peekLength(): number {
    const first = this.#chunks[0]!;
    if (first.length >= LENGTH_BYTES) return first.readUInt32BE(0);
    const head = Buffer.concat(this.#chunks, LENGTH_BYTES);
    return head.readUInt32BE(0);
  }

  #take(count: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= count) {
      out = first.subarray(0, count);
      if (first.length === count) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(count);
    } else {
      out = Buffer.allocUnsafe(count);
      let filled = 0;
      while (filled < count) {
        const chunk = this.#chunks[0]!;
        const used = Math.min(chunk.length, count - filled);
        chunk.copy(out, filled, 0, used);
        filled += used;
        if (used === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(used);
      }
    }
    this.#buffered -= count;
    return out;
  }
}
