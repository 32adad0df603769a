import type net from 'node:net';
import type { FrameOpener, FrameSealer } from './auth.js';
import { ProtocolError } from './errors.js';
import { FrameDecoder, MAX_FRAME_LENGTH, type RawFrame } from './frame.js';
import { encodePlainFrame, errorFromPeer, errorMessage } from './handshake.js';
import { type AnyMessage, type Message, PAYLOAD_SCHEMAS } from './messages.js';

/** Past this many received-but-unread bytes with no one waiting, stop reading the socket. */
const READ_HIGH_WATER = 256 * 1024;
/** Past this many undelivered messages, stop pulling frames (and so, in turn, reading). */
const QUEUE_HIGH_WATER = 64;
/** How long a closing socket may take to flush before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * Pulls whole frames off a socket on demand. Reading pauses while nobody asks for frames and
 * enough is buffered, which is how a slow consumer pushes back on a fast peer over TCP.
 */
export class FrameReader {
  readonly #socket: net.Socket;
  readonly #decoder = new FrameDecoder(MAX_FRAME_LENGTH);
  #waiter: { resolve: (frame: RawFrame) => void; reject: (error: ProtocolError) => void } | undefined;
  /** 'eof': frames already buffered are still handed out before the close is reported. */
  #ended: ProtocolError | 'eof' | undefined;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk);
      } catch {
        // The decoder already failed; next() reports it.
      }
      this.#wake();
      if (this.#waiter === undefined && this.#decoder.buffered > READ_HIGH_WATER) socket.pause();
    });
    socket.on('error', (error) => {
      this.#ended ??= new ProtocolError('E_CLOSED', `connection failed: ${error.message}`, { cause: error });
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended ??= 'eof';
      this.#wake();
    });
  }

  next(): Promise<RawFrame> {
    if (this.#waiter) return Promise.reject(new ProtocolError('E_UNEXPECTED', 'one reader at a time'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#wake();
      if (this.#waiter) this.#socket.resume();
    });
  }

  /** Fails a pending next() from outside, e.g. on a handshake timeout. */
  fail(error: ProtocolError): void {
    this.#ended ??= error;
    this.#wake();
  }

  #wake(): void {
    const waiter = this.#waiter;
    if (!waiter) return;
    let frame: RawFrame | undefined;
    try {
      frame = this.#decoder.next();
    } catch (error) {
      this.#waiter = undefined;
      waiter.reject(error as ProtocolError);
      return;
    }
    if (frame) {
      this.#waiter = undefined;
      waiter.resolve(frame);
    } else if (this.#ended) {
      this.#waiter = undefined;
      if (this.#ended !== 'eof') waiter.reject(this.#ended);
      else if (this.#decoder.buffered > 0) {
        waiter.reject(new ProtocolError('E_BAD_FRAME', 'connection closed in the middle of a frame'));
      } else waiter.reject(new ProtocolError('E_CLOSED', 'peer closed the connection'));
    }
  }
}

/** Writes and waits for 'drain' when the socket's buffer is full, never holding the event loop. */
export const writeFrame = (socket: net.Socket, frame: Buffer): Promise<void> =>
  new Promise((resolve, reject) => {
    if (socket.destroyed || !socket.writable) {
      reject(new ProtocolError('E_CLOSED', 'the connection is closed'));
      return;
    }
    if (socket.write(frame)) {
      resolve();
      return;
    }
    const done = (error?: ProtocolError) => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new ProtocolError('E_CLOSED', 'the connection closed while sending'));
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });

/** Ends the socket gracefully so a last ERROR frame is flushed, then makes sure it is gone. */
export const endSocket = (socket: net.Socket, last?: Buffer): void => {
  if (socket.destroyed) return;
  if (last && socket.writable) socket.end(last);
  else socket.end();
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
};

export interface SessionInit {
  readonly socket: net.Socket;
  readonly reader: FrameReader;
  readonly sealer: FrameSealer;
  readonly opener: FrameOpener;
  readonly role: 'client' | 'server';
  readonly version: number;
  readonly hostId: string;
  readonly clientId: string;
  readonly secretIndex?: number;
  /** Send PING after this long without hearing from the peer; close if it stays silent as long again. */
  readonly keepAliveMs?: number;
}

const HANDSHAKE_TYPES = new Set(['HELLO', 'CHALLENGE', 'AUTH', 'READY']);
const SENDABLE = new Set([
  'JOB',
  'ACK',
  'PROGRESS',
  'LOG',
  'RESULT',
  'CANCEL',
  'ATTACH',
  'STATUS',
  'STATUS_REPLY',
]);

/**
 * An authenticated session. Read with `for await (const message of session)`; the loop ends
 * when the session closes (cleanly or because the peer went away) and throws on a protocol
 * violation. `closed` resolves with the reason (undefined after our own `close()`).
 */
export class Session implements AsyncIterable<Message> {
  readonly role: 'client' | 'server';
  readonly version: number;
  readonly hostId: string;
  readonly clientId: string;
  /** Server side: which candidate secret the client proved (0 current, 1 previous, …). */
  readonly secretIndex: number | undefined;
  readonly remoteAddress: string | undefined;
  readonly closed: Promise<ProtocolError | undefined>;

  readonly #socket: net.Socket;
  readonly #reader: FrameReader;
  readonly #sealer: FrameSealer;
  readonly #opener: FrameOpener;
  readonly #queue: Message[] = [];
  #consumer: (() => void) | undefined;
  #space: (() => void) | undefined;
  #reason: ProtocolError | undefined;
  #isClosed = false;
  #resolveClosed!: (reason: ProtocolError | undefined) => void;
  #pings = new Map<number, (error?: ProtocolError) => void>();
  #nextPing = 1;
  #lastHeard = Date.now();
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(init: SessionInit) {
    this.role = init.role;
    this.version = init.version;
    this.hostId = init.hostId;
    this.clientId = init.clientId;
    this.secretIndex = init.secretIndex;
    this.remoteAddress = init.socket.remoteAddress;
    this.#socket = init.socket;
    this.#reader = init.reader;
    this.#sealer = init.sealer;
    this.#opener = init.opener;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    if (init.keepAliveMs !== undefined) this.#startKeepAlive(init.keepAliveMs);
    void this.#readLoop();
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Resolves once the frame is handed to the kernel (or after 'drain' when the socket is full). */
  async send(message: Message): Promise<void> {
    if (this.#isClosed) throw this.#reason ?? new ProtocolError('E_CLOSED', 'the session is closed');
    if (!SENDABLE.has(message.type)) {
      throw new ProtocolError('E_UNEXPECTED', `${message.type} is not an application message`);
    }
    const { type: _type, ...fields } = message;
    const parsed = PAYLOAD_SCHEMAS[message.type].safeParse(fields);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProtocolError(
        'E_BAD_MESSAGE',
        `invalid ${message.type}: ${issue?.message ?? 'schema mismatch'}`,
      );
    }
    let frame: Buffer;
    try {
      frame = this.#sealer.seal(message);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      // JSON.stringify refuses BigInt and cycles; nothing was sent and no seq was used.
      throw new ProtocolError('E_BAD_MESSAGE', `${message.type} is not JSON-serializable`, { cause: error });
    }
    await writeFrame(this.#socket, frame);
  }

  /** Round trip in milliseconds. */
  ping(timeoutMs = 10_000): Promise<number> {
    if (this.#isClosed)
      return Promise.reject(this.#reason ?? new ProtocolError('E_CLOSED', 'the session is closed'));
    const id = this.#nextPing++;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const settle = (error?: ProtocolError) => {
        clearTimeout(timer);
        this.#pings.delete(id);
        if (error) reject(error);
        else resolve(performance.now() - started);
      };
      const timer = setTimeout(
        () => settle(new ProtocolError('E_TIMEOUT', `no PONG within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref();
      this.#pings.set(id, settle);
      writeFrame(this.#socket, this.#sealer.seal({ type: 'PING', id })).catch((error: ProtocolError) =>
        settle(error),
      );
    });
  }

  /** Closes the session; with an error, the peer is told why in an ERROR frame first. */
  async close(error?: ProtocolError): Promise<void> {
    this.#finish(error, error !== undefined);
    if (!this.#socket.destroyed) {
      await new Promise<void>((resolve) => this.#socket.once('close', () => resolve()));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      const message = this.#queue.shift();
      if (message) {
        if (this.#queue.length < QUEUE_HIGH_WATER / 2) this.#releaseSpace();
        yield message;
        continue;
      }
      if (this.#isClosed) {
        const reason = this.#reason;
        if (reason === undefined || reason.code === 'E_CLOSED') return;
        throw reason;
      }
      await new Promise<void>((resolve) => {
        this.#consumer = resolve;
      });
    }
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) {
        const frame = await this.#reader.next();
        const message = this.#opener.open(frame);
        this.#lastHeard = Date.now();
        await this.#dispatch(message);
      }
    } catch (error) {
      const reason =
        error instanceof ProtocolError
          ? error
          : new ProtocolError('E_BAD_FRAME', String(error), { cause: error });
      // Errors the peer caused get an ERROR reply; a hang-up does not (a peer's ERROR closed us already).
      this.#finish(reason, reason.code !== 'E_CLOSED');
    }
  }

  async #dispatch(message: AnyMessage): Promise<void> {
    switch (message.type) {
      case 'PING':
        await writeFrame(this.#socket, this.#sealer.seal({ type: 'PONG', id: message.id }));
        return;
      case 'PONG':
        this.#pings.get(message.id)?.();
        return;
      case 'ERROR': {
        const reason = errorFromPeer(message);
        this.#finish(reason, false);
        throw reason;
      }
      default:
        if (HANDSHAKE_TYPES.has(message.type)) {
          throw new ProtocolError('E_UNEXPECTED', `${message.type} after the handshake`);
        }
        this.#queue.push(message as Message);
        this.#consumer?.();
        this.#consumer = undefined;
        if (this.#queue.length >= QUEUE_HIGH_WATER) {
          await new Promise<void>((resolve) => {
            this.#space = resolve;
          });
        }
    }
  }

  #releaseSpace(): void {
    this.#space?.();
    this.#space = undefined;
  }

  #startKeepAlive(intervalMs: number): void {
    let pingSentAt: number | undefined;
    this.#keepAlive = setInterval(
      () => {
        const silentFor = Date.now() - this.#lastHeard;
        if (
          pingSentAt !== undefined &&
          this.#lastHeard < pingSentAt &&
          Date.now() - pingSentAt >= intervalMs
        ) {
          this.#finish(new ProtocolError('E_TIMEOUT', `peer silent for ${silentFor} ms`), false);
          return;
        }
        if (silentFor >= intervalMs && (pingSentAt === undefined || this.#lastHeard >= pingSentAt)) {
          pingSentAt = Date.now();
          this.ping(intervalMs * 2).catch(() => undefined);
        }
      },
      Math.max(10, Math.floor(intervalMs / 2)),
    );
    this.#keepAlive.unref();
  }

  #finish(reason: ProtocolError | undefined, tellPeer: boolean): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#reason = reason;
    clearInterval(this.#keepAlive);
    this.#reader.fail(reason ?? new ProtocolError('E_CLOSED', 'session closed'));
    let last: Buffer | undefined;
    if (tellPeer && reason) {
      try {
        last = this.#sealer.seal(errorMessage(reason));
      } catch {
        last = undefined;
      }
    }
    endSocket(this.#socket, last);
    for (const settle of [...this.#pings.values()]) {
      settle(reason ?? new ProtocolError('E_CLOSED', 'session closed'));
    }
    this.#consumer?.();
    this.#consumer = undefined;
    this.#releaseSpace();
    this.#resolveClosed(reason);
  }
}

/** Before keys exist, a refusal is a plain ERROR frame. */
export const refusePlain = (socket: net.Socket, error: ProtocolError): void =>
  endSocket(socket, encodePlainFrame(errorMessage(error)));
