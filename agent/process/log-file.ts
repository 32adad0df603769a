import { constants, open as openFd } from 'node:fs';
import { appendFile, copyFile, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * Console logs. The game writes its stdout and stderr straight into `console.log`, opened
 * O_APPEND and inherited as its fd 1 and 2: no pipe through the agent, so the output keeps
 * landing on disk while the agent is down or restarting, and an adopted server needs nothing
 * from the new agent to keep logging.
 *
 * The price is that the agent cannot rename the file under a running game (the game keeps
 * writing to the renamed inode). So:
 * - at start, before the game holds the file, a file past its size limit is rotated by rename
 *   (lossless);
 * - while the game runs, the agent checks the size every few seconds and rotates by
 *   copy-then-truncate, like logrotate's `copytruncate`. Because the game's fd is O_APPEND,
 *   after the truncate its next write lands at the new end of the file (no hole). Lines
 *   written between the copy and the truncate can be lost; the copy is re-checked once to keep
 *   that window to a few milliseconds. Rotation works the same for adopted servers.
 */
export interface LogPolicy {
  /** Rotate once the live file is larger than this. */
  readonly maxBytes: number;
  /** Rotated files kept: console.log.1 (newest) … console.log.<keep>. */
  readonly keep: number;
  /** How often a running server's log size is checked. */
  readonly checkIntervalMs: number;
}

export const DEFAULT_LOG_POLICY: LogPolicy = { maxBytes: 10 * 1024 * 1024, keep: 5, checkIntervalMs: 5000 };

const sizeOf = async (file: string): Promise<number> => {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
};

/** console.log.<keep> is dropped, every other rotated file moves up by one. */
const shift = async (file: string, keep: number): Promise<void> => {
  await rm(`${file}.${keep}`, { force: true });
  for (let n = keep - 1; n >= 1; n--) {
    await rename(`${file}.${n}`, `${file}.${n + 1}`).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
};

/** Rotation by rename: only while no process holds the file. */
export const rotateByRename = async (file: string, policy: LogPolicy): Promise<boolean> => {
  if ((await sizeOf(file)) === 0) return false;
  if (policy.keep < 1) {
    await rm(file, { force: true });
    return true;
  }
  await shift(file, policy.keep);
  await rename(file, `${file}.1`);
  return true;
};

/** Rotation by copy and truncate: safe while the game writes to the file. */
export const rotateByCopyTruncate = async (file: string, policy: LogPolicy): Promise<boolean> => {
  const size = await sizeOf(file);
  if (size === 0) return false;
  if (policy.keep >= 1) {
    await shift(file, policy.keep);
    await copyFile(file, `${file}.1`);
    // Whatever arrived during the copy is carried over before the truncate.
    const after = await sizeOf(file);
    const copied = await sizeOf(`${file}.1`);
    if (after > copied) {
      const handle = await open(file, 'r');
      try {
        const extra = Buffer.alloc(after - copied);
        await handle.read(extra, 0, extra.length, copied);
        await appendFile(`${file}.1`, extra);
      } finally {
        await handle.close();
      }
    }
  }
  await truncate(file, 0);
  return true;
};

/** Rotates at start when the file is over its limit; then opens it for the game to append to. */
export const openConsoleLog = async (file: string, policy: LogPolicy, banner: string): Promise<number> => {
  if ((await sizeOf(file)) >= policy.maxBytes) await rotateByRename(file, policy);
  await appendFile(file, `${banner}\n`, { mode: 0o640 });
  // A raw fd, not a FileHandle: the caller hands it to spawn and closes it right after.
  return promisify(openFd)(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
};

/** Periodically rotates a live log that grew past its limit. */
export class LogWatcher {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly file: string,
    private readonly policy: LogPolicy,
    private readonly onRotate: (error?: unknown) => void = () => {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.policy.checkIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      if ((await sizeOf(this.file)) <= this.policy.maxBytes) return false;
      const rotated = await rotateByCopyTruncate(this.file, this.policy);
      if (rotated) this.onRotate();
      return rotated;
    } catch (error) {
      this.onRotate(error);
      return false;
    } finally {
      this.busy = false;
    }
  }
}

/** The last lines of a console log (reads at most `maxBytes` from its end). */
export const tailLog = async (file: string, lines: number, maxBytes = 64 * 1024): Promise<string[]> => {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    // The first line may be cut in half when the read started mid-file.
    if (length < size) all.shift();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
};
