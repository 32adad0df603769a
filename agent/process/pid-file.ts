import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';

/** What is needed to start the game server again: argv for spawn, never a shell string. */
export const LaunchSpec = z.object({
  executable: z.string().min(1).max(1024),
  args: z.array(z.string().max(4096)).max(256),
  /** Usually the instance's `current` link, so a restart runs whatever version is current. */
  cwd: z.string().min(1).max(4096),
  env: z.record(z.string(), z.string()).default({}),
});
export type LaunchSpec = z.infer<typeof LaunchSpec>;
export type LaunchSpecInput = z.input<typeof LaunchSpec>;

export const PidRecord = z.object({
  pid: z.number().int().positive(),
  startTime: z.string().regex(/^\d+$/),
  bootId: z.string().min(1).max(64),
  startedAt: z.iso.datetime(),
  launch: LaunchSpec,
  logFile: z.string().min(1),
});
export type PidRecord = z.infer<typeof PidRecord>;

export type PidFileRead =
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'ok'; record: PidRecord };

/** Written to a temporary name and renamed, so a crash never leaves half a pid file. */
export const writePidFile = async (file: string, record: PidRecord): Promise<void> => {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await rename(tmp, file);
};

export const readPidFile = async (file: string): Promise<PidFileRead> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  const parsed = PidRecord.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', reason: parsed.error.issues[0]?.message ?? 'bad record' };
  return { kind: 'ok', record: parsed.data };
};

export const removePidFile = (file: string): Promise<void> => rm(file, { force: true });
