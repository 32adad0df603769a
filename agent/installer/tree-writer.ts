import { close, constants, futimes, open, write } from 'node:fs';
import { link, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InstallerError } from './errors.js';

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

const openFd = (path: string, mode: number) =>
  new Promise<number>((resolve, reject) =>
    open(path, FILE_FLAGS, mode, (e, fd) => (e ? reject(e) : resolve(fd))),
  );

const closeFd = (fd: number) => new Promise<void>((resolve) => close(fd, () => resolve()));

const setTimes = (fd: number, mtime: Date) =>
  new Promise<void>((resolve, reject) => futimes(fd, mtime, mtime, (e) => (e ? reject(e) : resolve())));

const writeAll = async (fd: number, buf: Buffer, position: number): Promise<void> => {
  let done = 0;
  while (done < buf.length) {
    done += await new Promise<number>((resolve, reject) =>
      write(fd, buf, done, buf.length - done, position + done, (e, n) => (e ? reject(e) : resolve(n))),
    );
  }
};

export interface FileSink {
  write(chunk: Buffer): void;
  end(): void;
}

/**
 * Asynchronous file operations for one extraction, off the event loop (the agent keeps
 * answering its peers while it installs). Body chunks are positional writes chained per file;
 * operations on the same path run in archive order; `pendingBytes` bounds what is queued.
 * The paths it is given are already checked (`TreeModel`); it never follows a final symlink
 * (`O_NOFOLLOW`) and unlinks an earlier entry before replacing it.
 */
export class TreeWriter {
  readonly #root: string;
  readonly #dirs = new Map<string, Promise<unknown>>();
  readonly #paths = new Map<string, Promise<unknown>>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #openFds = new Set<Promise<number>>();
  #waiters: (() => void)[] = [];
  #pendingBytes = 0;
  #stopped = false;
  failure: Error | undefined;
  onFailure: ((error: Error) => void) | undefined;
  bytesWritten = 0;

  constructor(root: string) {
    this.#root = root;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  #fail(error: unknown): void {
    if (this.failure) return;
    const cause = error as NodeJS.ErrnoException;
    this.failure = new InstallerError('E_EXTRACT', `cannot write the release: ${cause.message}`, { cause });
    this.#stopped = true;
    this.onFailure?.(this.failure);
    this.#notify();
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    promise.then(
      () => this.#pending.delete(promise),
      (error) => {
        this.#pending.delete(promise);
        this.#fail(error);
      },
    );
    return promise;
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #dir(rel: string): Promise<unknown> {
    if (rel === '') return Promise.resolve();
    let made = this.#dirs.get(rel);
    if (!made) {
      made = this.#track(this.#guard(() => mkdir(join(this.#root, rel), { recursive: true, mode: 0o755 })));
      this.#dirs.set(rel, made);
    }
    return made;
  }

  /** Runs `op` unless the extraction was stopped: nothing is created after a failure. */
  async #guard<T>(op: () => Promise<T>): Promise<T | undefined> {
    if (this.#stopped) return undefined;
    return op();
  }

  /** Chains an operation on `rel` after its parent exists and after earlier operations on it. */
  #onPath(
    rel: string,
    parent: string,
    after: Promise<unknown>[],
    op: () => Promise<unknown>,
  ): Promise<unknown> {
    const prior = this.#paths.get(rel);
    const run = Promise.all([this.#dir(parent), prior, ...after]).then(() => this.#guard(op));
    const tracked = this.#track(run);
    this.#paths.set(
      rel,
      tracked.catch(() => {}),
    );
    return tracked;
  }

  dir(rel: string, mode: number): void {
    const made = this.#track(
      this.#guard(() => mkdir(join(this.#root, rel), { recursive: true, mode: (mode & 0o777) | 0o700 })),
    );
    if (!this.#dirs.has(rel)) this.#dirs.set(rel, made);
  }

  symlink(rel: string, parent: string, target: string, replace: boolean): void {
    const path = join(this.#root, rel);
    this.#onPath(rel, parent, [], async () => {
      if (replace) await rm(path, { force: true });
      await symlink(target, path);
    });
  }

  link(rel: string, parent: string, targetRel: string, replace: boolean): void {
    const path = join(this.#root, rel);
    const target = this.#paths.get(targetRel) ?? Promise.resolve();
    this.#onPath(rel, parent, [target], async () => {
      if (replace) await rm(path, { force: true });
      await link(join(this.#root, targetRel), path);
    });
  }

  file(rel: string, parent: string, mode: number, mtime: Date | undefined, replace: boolean): FileSink {
    const path = join(this.#root, rel);
    // Setuid/setgid/sticky bits from an archive are never honoured.
    const fd = Promise.all([this.#dir(parent), this.#paths.get(rel)]).then(async () => {
      if (this.#stopped) throw new Error('extraction stopped');
      if (replace) await rm(path, { force: true });
      return openFd(path, mode & 0o777);
    });
    this.#openFds.add(fd);
    let tail: Promise<unknown> = this.#track(fd);
    let position = 0;
    return {
      write: (chunk) => {
        const at = position;
        position += chunk.length;
        this.#pendingBytes += chunk.length;
        tail = this.#track(
          tail
            .then(async () => {
              if (this.#stopped) return;
              await writeAll(await fd, chunk, at);
              this.bytesWritten += chunk.length;
            })
            .finally(() => {
              this.#pendingBytes -= chunk.length;
              this.#notify();
            }),
        );
      },
      end: () => {
        const closed = tail
          .then(async () => {
            if (mtime && !this.#stopped) await setTimes(await fd, mtime);
          })
          .finally(async () => {
            if (this.#openFds.delete(fd)) await fd.then(closeFd, () => {});
          });
        this.#paths.set(
          rel,
          this.#track(closed).catch(() => {}),
        );
      },
    };
  }

  /** Resolves once no more than `limit` bytes are queued (or the writer failed). */
  whenBelow(limit: number): Promise<void> {
    if (this.#pendingBytes <= limit || this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.#pendingBytes <= limit || this.failure) resolve();
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  /** Waits for every queued operation; rejects with the first failure. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    if (this.failure) throw this.failure;
  }

  /** Stops creating anything, waits for operations in flight, closes every descriptor. */
  async stop(): Promise<void> {
    this.#stopped = true;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    const fds = [...this.#openFds];
    this.#openFds.clear();
    await Promise.all(fds.map((fd) => fd.then(closeFd, () => {})));
  }
}
