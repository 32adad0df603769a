import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../../core/log.js';
import { current } from '../installer/index.js';
import type { GameInstance } from './instance.js';

/**
 * `{ instance: desired state }`, written on every start and stop (Wings' PersistStates), so an
 * agent that comes back knows which game servers ought to be running.
 */
export type DesiredState = 'running' | 'stopped';

export class StateStore {
  readonly file: string;
  #states: Record<string, DesiredState> = {};
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string) {
    this.file = file;
  }

  static async open(file: string): Promise<StateStore> {
    const store = new StateStore(file);
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [name, state] of Object.entries(parsed)) {
          if (state === 'running' || state === 'stopped') store.#states[name] = state;
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !(error instanceof SyntaxError)) throw error;
    }
    return store;
  }

  get(name: string): DesiredState | undefined {
    return this.#states[name];
  }

  set(name: string, state: DesiredState): Promise<void> {
    if (this.#states[name] === state) return this.#writing;
    this.#states = { ...this.#states, [name]: state };
    const snapshot = JSON.stringify(this.#states);
    this.#writing = this.#writing.then(() => writeDurably(this.file, `${snapshot}\n`));
    return this.#writing;
  }

  flush(): Promise<void> {
    return this.#writing;
  }
}

const writeDurably = async (file: string, text: string): Promise<void> => {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
};

export interface RestoreReport {
  readonly instance: string;
  readonly outcome: 'adopted' | 'started' | 'offline' | 'failed';
  readonly pid?: number;
  readonly reason?: string;
}

/**
 * At agent start: re-adopt every game server still running (same pid, /proc start time and
 * boot id as its pid file), never killing or duplicating it. One that should be running but
 * died while the agent was away is started again.
 */
export const restoreInstances = async (
  instances: readonly GameInstance[],
  states: StateStore,
  logger: Logger,
): Promise<RestoreReport[]> => {
  const reports: RestoreReport[] = [];
  for (const instance of instances) {
    try {
      const adopted = await instance.supervisor.adopt();
      if (adopted.adopted) {
        reports.push({ instance: instance.name, outcome: 'adopted', pid: adopted.pid });
        continue;
      }
      if (states.get(instance.name) !== 'running' || !instance.def || !(await current(instance.dir))) {
        reports.push({ instance: instance.name, outcome: 'offline', reason: adopted.reason });
        continue;
      }
      const { pid } = await instance.supervisor.start(instance.launch());
      reports.push({ instance: instance.name, outcome: 'started', pid, reason: adopted.reason });
    } catch (error) {
      logger.error({ err: error, instance: instance.name }, 'could not restore the game server');
      reports.push({ instance: instance.name, outcome: 'failed', reason: (error as Error).message });
    }
  }
  return reports;
};
