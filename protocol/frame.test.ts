import { describe, expect, it } from 'vitest';
import { FrameOpener, FrameSealer } from './auth.js';
import { FrameTooLargeError, ProtocolError } from './errors.js';
import { encodeRawFrame, FrameDecoder, MAX_FRAME_LENGTH, type RawFrame } from './frame.js';
import { decodePlainFrame, encodePlainFrame } from './handshake.js';
import { type AnyMessage, decodeMessage, encodePayload, MESSAGE_TYPES } from './messages.js';

const job: AnyMessage = { type: 'JOB', jobId: 'job-1', action: 'install', params: { version: '1.0.0' } };
const log: AnyMessage = { type: 'LOG', jobId: 'job-1', lines: ['héllo', 'wörld ✓'] };
const result: AnyMessage = {
  type: 'RESULT',
  jobId: 'job-1',
  ok: false,
  error: { code: 'E_X', message: 'no' },
};

const drain = (decoder: FrameDecoder): RawFrame[] => {
  const frames: RawFrame[] = [];
  for (let frame = decoder.next(); frame; frame = decoder.next()) frames.push(frame);
  return frames;
};

const header = (length: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length, 0);
  return bytes;
};

describe('FrameDecoder', () => {
  it('round-trips frames fed one byte at a time', () => {
    // Prepare
    const bytes = Buffer.concat([job, log, result].map(encodePlainFrame));
    const decoder = new FrameDecoder();
    const frames: RawFrame[] = [];

    // Act
    for (const byte of bytes) {
      decoder.push(Buffer.from([byte]));
      frames.push(...drain(decoder));
    }

    // Assess
    expect(frames.map(decodePlainFrame)).toEqual([job, log, result]);
    expect(decoder.buffered).toBe(0);
  });

  it('splits coalesced frames delivered in one chunk, and frames cut at random points', () => {
    const bytes = Buffer.concat([job, log, result, job].map(encodePlainFrame));
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const decoder = new FrameDecoder();
      decoder.push(bytes.subarray(0, cut));
      const first = drain(decoder);
      decoder.push(bytes.subarray(cut));
      const frames = [...first, ...drain(decoder)];
      expect(frames.map(decodePlainFrame)).toEqual([job, log, result, job]);
    }
  });

  it('reassembles a frame of exactly the maximum length', () => {
    const body = Buffer.alloc(MAX_FRAME_LENGTH - 1, 0x20);
    const frame = encodeRawFrame(MESSAGE_TYPES.LOG, body);
    const decoder = new FrameDecoder();
    for (let offset = 0; offset < frame.length; offset += 65_536)
      decoder.push(frame.subarray(offset, offset + 65_536));
    expect(decoder.next()?.body.length).toBe(MAX_FRAME_LENGTH - 1);
  });

  it('rejects an oversize length from the header alone, before the body arrives', () => {
    const decoder = new FrameDecoder();
    decoder.push(header(MAX_FRAME_LENGTH + 1));
    expect(() => decoder.next()).toThrow(FrameTooLargeError);
    expect(decoder.buffered).toBe(0);
    expect(() => decoder.push(Buffer.from([1]))).toThrow(
      expect.objectContaining({ code: 'E_FRAME_TOO_LARGE' }),
    );
  });

  it('refuses to encode a frame past the limit', () => {
    expect(() => encodeRawFrame(MESSAGE_TYPES.LOG, Buffer.alloc(MAX_FRAME_LENGTH))).toThrow(
      FrameTooLargeError,
    );
  });

  it.each([
    { name: 'zero length', bytes: header(0), code: 'E_BAD_FRAME' },
    {
      name: 'unknown type',
      bytes: Buffer.concat([header(3), Buffer.from([0xee, 0x7b, 0x7d])]),
      code: 'E_UNKNOWN_TYPE',
    },
  ])('rejects $name with $code', ({ bytes, code }) => {
    const decoder = new FrameDecoder();
    decoder.push(bytes);
    expect(() => decoder.next()).toThrow(expect.objectContaining({ code }));
  });
});

describe('decodeMessage', () => {
  it.each<AnyMessage>([
    { type: 'HELLO', version: 2, hostId: 'host-1', clientId: 'relay-1', nonce: 'ab'.repeat(32) },
    { type: 'CHALLENGE', version: 2, hostId: 'host-1', nonce: 'cd'.repeat(32), proofs: ['ef'.repeat(32)] },
    { type: 'AUTH', proof: '01'.repeat(32) },
    { type: 'READY', version: 2 },
    { type: 'ERROR', code: 'E_VERSION', message: 'v2 only', supported: [2] },
    { type: 'PING', id: 1 },
    { type: 'PONG', id: 1 },
    { type: 'STATUS' },
    { type: 'STATUS_REPLY', status: { instances: [{ name: 'main', running: true }] } },
    job,
    { type: 'ACK', jobId: 'job-1', status: 'duplicate' },
    { type: 'PROGRESS', jobId: 'job-1', phase: 'download', bytes: 1024, total: 4096 },
    log,
    { type: 'RESULT', jobId: 'job-1', ok: true, result: { version: '1.1.0' } },
    result,
    { type: 'CANCEL', jobId: 'job-1' },
    { type: 'ATTACH', jobId: 'job-1' },
  ])('round-trips $type', (message) => {
    expect(decodeMessage(MESSAGE_TYPES[message.type], encodePayload(message))).toEqual(message);
  });

  it.each([
    { name: 'bad JSON', payload: '{"jobId":', code: 'E_BAD_JSON' },
    { name: 'invalid UTF-8', payload: Buffer.from([0x7b, 0xff, 0x7d]), code: 'E_BAD_JSON' },
    { name: 'a JSON array', payload: '[1,2]', code: 'E_BAD_JSON' },
    { name: 'a missing field', payload: '{"jobId":"a"}', code: 'E_BAD_MESSAGE' },
    {
      name: 'a command line as action',
      payload: '{"jobId":"a","action":"rm -rf /","params":{}}',
      code: 'E_BAD_MESSAGE',
    },
  ])('rejects $name with $code', ({ payload, code }) => {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    expect(() => decodeMessage(MESSAGE_TYPES.JOB, bytes)).toThrow(expect.objectContaining({ code }));
  });

  it('rejects an unknown type number', () => {
    expect(() => decodeMessage(0x7f, Buffer.from('{}'))).toThrow(
      expect.objectContaining({ code: 'E_UNKNOWN_TYPE' }),
    );
  });
});

describe('sealed frames', () => {
  const key = Buffer.alloc(32, 7);
  const open = (frames: Buffer[]) => {
    const decoder = new FrameDecoder();
    const opener = new FrameOpener(key);
    for (const frame of frames) decoder.push(frame);
    return drain(decoder).map((frame) => opener.open(frame));
  };

  it('open what was sealed, in order', () => {
    const sealer = new FrameSealer(key);
    expect(open([sealer.seal(job), sealer.seal(log)])).toEqual([job, log]);
  });

  it.each([
    { name: 'a flipped payload byte', at: (frame: Buffer) => frame.length - 2, code: 'E_BAD_MAC' },
    { name: 'a flipped type byte', at: () => 4, code: 'E_BAD_MAC' },
    { name: 'a flipped sequence byte', at: () => 12, code: 'E_BAD_MAC' },
    { name: 'a flipped tag byte', at: () => 20, code: 'E_BAD_MAC' },
  ])('rejects $name', ({ at, code }) => {
    const frame = Buffer.from(new FrameSealer(key).seal(job));
    const index = at(frame);
    frame[index] = frame[index]! ^ (index === 4 ? 0x01 : 0x40);
    expect(() => open([frame])).toThrow(expect.objectContaining({ code }));
  });

  it('rejects a replayed frame and a reordered one', () => {
    const sealer = new FrameSealer(key);
    const [a, b] = [sealer.seal(job), sealer.seal(log)];
    expect(() => open([a, a])).toThrow(expect.objectContaining({ code: 'E_REPLAY' }));
    expect(() => open([b, a])).toThrow(expect.objectContaining({ code: 'E_SEQUENCE' }));
  });

  it('rejects a frame sealed under another key', () => {
    const frame = new FrameSealer(Buffer.alloc(32, 8)).seal(job);
    expect(() => open([frame])).toThrow(ProtocolError);
  });
});

describe('fuzzing', () => {
  /** A deterministic generator, so a failure can be replayed. */
  const random = (seed: number) => () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
    return seed / 0x80000000;
  };

  it('meets 10,000 random and mutated frames with ProtocolErrors only', () => {
    // Prepare
    const next = random(42);
    const valid = [job, log, result].map(encodePlainFrame);
    const sealer = new FrameSealer(Buffer.alloc(32, 3));
    const sealed = [job, log, result].map((message) => sealer.seal(message));
    const types = Object.values(MESSAGE_TYPES);
    let frames = 0;
    let refused = 0;

    // Act
    for (let round = 0; round < 10_000; round++) {
      const decoder = new FrameDecoder();
      const opener = new FrameOpener(Buffer.alloc(32, 3));
      const kind = round % 4;
      let bytes: Buffer;
      if (kind === 0) {
        bytes = Buffer.from(Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)));
      } else if (kind === 1) {
        // A plausible header (small length, known type) over random bytes.
        const body = Buffer.from(
          Array.from({ length: Math.floor(next() * 80) }, () => Math.floor(next() * 256)),
        );
        bytes = encodeRawFrame(types[Math.floor(next() * types.length)]!, body);
      } else {
        bytes = Buffer.from((kind === 2 ? valid : sealed)[round % 3]!);
        for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) {
          const at = Math.floor(next() * bytes.length);
          bytes[at] = Math.floor(next() * 256);
        }
      }
      try {
        decoder.push(bytes);
        for (let frame = decoder.next(); frame; frame = decoder.next()) {
          frames++;
          if (kind === 3) opener.open(frame);
          else decodePlainFrame(frame);
        }
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        refused++;
      }
    }

    // Assess
    expect(frames).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(5000);
  });
});
