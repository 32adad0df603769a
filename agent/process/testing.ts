import { join } from 'node:path';
import { createLogger } from '../../core/log.js';
import { InstanceSpec } from '../games/definitions.js';
import { demo } from '../games/demo.js';
import { renderArgs } from '../games/render.js';
import type { LaunchSpecInput } from './pid-file.js';
import { Supervisor } from './supervisor.js';
import type { SupervisorEvent, SupervisorOptions } from './types.js';

/** Shared by the process tests and the fake agent they kill: the demo game under a Supervisor. */
export const silentLogger = createLogger('test', { level: 'silent' });

export const demoLaunch = (releaseDir: string, port: number, control: string): LaunchSpecInput => ({
  executable: demo.executable,
  args: renderArgs(demo, InstanceSpec.parse({ name: 'demo-1', game: 'demo', port, control })),
  cwd: releaseDir,
});

export const demoSupervisor = (runDir: string, overrides: Partial<SupervisorOptions> = {}): Supervisor =>
  new Supervisor({
    name: 'demo-1',
    runDir,
    stop: demo.stop,
    stopGraceMs: 3000,
    allowRoot: true,
    pollIntervalMs: 50,
    logger: silentLogger,
    restart: { initialDelayMs: 100, maxDelayMs: 1000 },
    ...overrides,
  });

export const waitFor = async <T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/** Collects a supervisor's events for assertions. */
export const recordEvents = (supervisor: Supervisor): SupervisorEvent[] => {
  const events: SupervisorEvent[] = [];
  supervisor.onEvent((event) => events.push(event));
  return events;
};

export const runDirOf = (root: string, name = 'demo-1'): string => join(root, 'instances', name, 'run');
