import { spawn } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import unbzip2 from 'unbzip2-stream';

/**
 * A bzip2 decoder: a native one as a child process (the only place the installer spawns
 * anything), else a pure-JS one. lbzip2 decodes even single-stream files in parallel
 * (PERF-LIMITS: 2.3× bzip2), bzip2 is on every Debian host; the JS decoder runs at about a
 * tenth of lbzip2's speed, so it is only the last resort of a host that has neither.
 */
export const BZIP2_DECODERS = ['lbzip2', 'bzip2', 'js'] as const;
export type Bzip2Decoder = (typeof BZIP2_DECODERS)[number];

export interface DecoderProcess {
  readonly decoder: Bzip2Decoder;
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves on exit 0; rejects with the exit status and the tail of stderr otherwise. */
  readonly exited: Promise<void>;
  /** Stops the child (SIGKILL: it only holds a pipe) and waits for it to be gone. */
  kill(): Promise<void>;
}

export interface StartDecoderOptions {
  /** Decoders to try, in order; tests narrow it to force the fallback or the missing case. */
  readonly prefer?: readonly Bzip2Decoder[];
}

/**
 * Starts the first decoder that exists. Spawning by name lets the OS search PATH (no
 * environment reading here); ENOENT moves on to the next name. Null when none is installed.
 */
export const startBzip2Decoder = async (
  options: StartDecoderOptions = {},
): Promise<DecoderProcess | null> => {
  for (const decoder of options.prefer ?? BZIP2_DECODERS) {
    const started = decoder === 'js' ? startJsDecoder() : await spawnDecoder(decoder);
    if (started) return started;
  }
  return null;
};

/** unbzip2-stream behind the same interface as a child: bytes in on stdin, tar out on stdout. */
const startJsDecoder = (): DecoderProcess => {
  const stdin = new PassThrough({ highWaterMark: 1 << 20 });
  const stdout = new PassThrough({ highWaterMark: 1 << 20 });
  const decoder = unbzip2();
  let stopped = false;
  const exited = new Promise<void>((resolve, reject) => {
    decoder.on('error', (error: Error) =>
      stopped ? resolve() : reject(new Error(`js -dc failed: ${error.message}`)),
    );
    stdout.on('end', () => resolve());
    stdout.on('close', () => resolve());
  });
  exited.catch(() => {});
  stdin.pipe(decoder).pipe(stdout);
  return {
    decoder: 'js',
    stdin,
    stdout,
    exited,
    kill: async () => {
      stopped = true;
      stdin.unpipe(decoder);
      decoder.destroy?.();
      stdout.destroy();
    },
  };
};

const STDERR_TAIL = 2048;

const spawnDecoder = async (decoder: Exclude<Bzip2Decoder, 'js'>): Promise<DecoderProcess | null> => {
  // -d decode, -c to stdout; nothing from the network ever reaches argv.
  const child = spawn(decoder, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const missing = await new Promise<boolean>((resolve, reject) => {
    child.once('spawn', () => resolve(false));
    child.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? resolve(true) : reject(error),
    );
  });
  if (missing) return null;
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
  });
  // EPIPE on stdin after the child died is reported through `exited`, not as a crash.
  child.stdin.on('error', () => {});
  let killed = false;
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else if (killed) resolve();
      else {
        const why = signal ? `signal ${signal}` : `exit ${code}`;
        reject(new Error(`${decoder} -dc failed (${why}): ${stderr.trim() || 'no message'}`));
      }
    });
  });
  // A caller that stops listening must not leave an unhandled rejection behind.
  exited.catch(() => {});
  return {
    decoder,
    stdin: child.stdin,
    stdout: child.stdout,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        killed = true;
        child.kill('SIGKILL');
      }
      await exited.catch(() => {});
    },
  };
};
