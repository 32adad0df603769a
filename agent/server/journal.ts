import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/log.js';
import type { JobError } from './errors.js';

/**
 * The job journal: one JSON file per job id under `<dataDir>/journal/`, written to a temporary
 * name, fsync'd, renamed and the folder fsync'd, so after a crash (even kill -9 or a power cut)
 * a job is either not there or there whole. A job is journalled as `running` before its ACK
 * goes out; a record still `running` when the agent starts was cut off by a crash and becomes
 * `failed` with E_AGENT_RESTARTED: never lost, never run again.
 */
export type JobOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: JobError };

export interface JobRecord {
  readonly jobId: string;
  readonly action: string;
  readonly instance?: string;
  readonly state: 'running' | 'done';
  readonly acceptedAt: string;
  readonly finishedAt?: string;
  readonly outcome?: JobOutcome;
}

const FILE = /^([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\.json$/;

const fsyncDir = async (dir: string): Promise<void> => {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

export class Journal {
  readonly dir: string;
  readonly #records = new Map<string, JobRecord>();
  /** Writes of one job are chained so a `done` can never be overtaken by its `running`. */
  readonly #writes = new Map<string, Promise<void>>();
  readonly #logger: Logger;

  private constructor(dir: string, logger: Logger) {
    this.dir = dir;
    this.#logger = logger;
  }

  /**
   * Loads every record; marks jobs cut off by a crash as failed (E_AGENT_RESTARTED) and forgets
   * finished ones older than the retention. Returns the journal and the jobs it marked.
   */
  static async open(
    dir: string,
    options: { logger: Logger; retentionMs: number; now?: number },
  ): Promise<{ journal: Journal; interrupted: JobRecord[] }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const journal = new Journal(dir, options.logger);
    const now = options.now ?? Date.now();
    const interrupted: JobRecord[] = [];
    for (const name of await readdir(dir)) {
      if (name.endsWith('.tmp')) {
        await rm(join(dir, name), { force: true });
        continue;
      }
      const match = FILE.exec(name);
      if (!match) continue;
      let record: JobRecord;
      try {
        record = JSON.parse(await readFile(join(dir, name), 'utf8')) as JobRecord;
      } catch (error) {
        options.logger.warn({ err: error, file: name }, 'unreadable journal record skipped');
        continue;
      }
      if (record.jobId !== match[1]) continue;
      if (record.state === 'done') {
        const finished = Date.parse(record.finishedAt ?? record.acceptedAt);
        if (now - finished > options.retentionMs) {
          await rm(join(dir, name), { force: true });
          continue;
        }
        journal.#records.set(record.jobId, record);
        continue;
      }
      const failed: JobRecord = {
        ...record,
        state: 'done',
        finishedAt: new Date(now).toISOString(),
        outcome: {
          ok: false,
          error: {
            code: 'E_AGENT_RESTARTED',
            message: `the agent stopped (crash or kill) while job ${record.jobId} (${record.action}) was running; it was not completed and will not be re-run — check the instance's status and send a new job`,
          },
        },
      };
      await journal.#write(failed);
      interrupted.push(failed);
    }
    return { journal, interrupted };
  }

  get(jobId: string): JobRecord | undefined {
    return this.#records.get(jobId);
  }

  /** Journals a job as running; resolves once it is on disk. */
  begin(record: Omit<JobRecord, 'state' | 'acceptedAt'>): Promise<JobRecord> {
    const full: JobRecord = { ...record, state: 'running', acceptedAt: new Date().toISOString() };
    return this.#write(full).then(() => full);
  }

  finish(jobId: string, outcome: JobOutcome): Promise<JobRecord> {
    const running = this.#records.get(jobId);
    if (!running) return Promise.reject(new Error(`job ${jobId} was never journalled`));
    const done: JobRecord = { ...running, state: 'done', finishedAt: new Date().toISOString(), outcome };
    return this.#write(done).then(() => done);
  }

  /** Resolves when every write started so far is on disk. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#writes.values()]);
  }

  #write(record: JobRecord): Promise<void> {
    this.#records.set(record.jobId, record);
    const previous = this.#writes.get(record.jobId) ?? Promise.resolve();
    const next = previous.then(() => this.#persist(record));
    const tracked = next.catch((error: unknown) => {
      this.#logger.error({ err: error, jobId: record.jobId }, 'journal write failed');
    });
    this.#writes.set(record.jobId, tracked);
    void tracked.then(() => {
      if (this.#writes.get(record.jobId) === tracked) this.#writes.delete(record.jobId);
    });
    return next;
  }

  async #persist(record: JobRecord): Promise<void> {
    const file = join(this.dir, `${record.jobId}.json`);
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await fsyncDir(this.dir);
  }
}
