import { readFile } from 'node:fs/promises';

/**
 * A process as the kernel knows it. `startTime` (field 22 of /proc/<pid>/stat, clock ticks
 * since boot) and the boot id together tell a process apart from a later one that got the
 * same pid, even across a reboot.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string;
  readonly bootId: string;
}

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly startTime: string;
}

/** Reads /proc/<pid>/stat; undefined when there is no such process. */
export const readProcStat = async (pid: number): Promise<ProcStat | undefined> => {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and ")".
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number): string => rest[n - 3] ?? '';
  return {
    pid,
    state: field(3),
    ppid: Number(field(4)),
    pgrp: Number(field(5)),
    startTime: field(22),
  };
};

let bootIdCache: string | undefined;
export const readBootId = async (): Promise<string> => {
  bootIdCache ??= (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  return bootIdCache;
};

export const identify = async (pid: number): Promise<ProcessIdentity | undefined> => {
  const stat = await readProcStat(pid);
  if (!stat) return undefined;
  return { pid, startTime: stat.startTime, bootId: await readBootId() };
};

export type IdentityCheck = 'same' | 'gone' | 'recycled' | 'other-boot';

/** Whether `identity` still names a live process (a zombie counts as gone). */
export const checkIdentity = async (identity: ProcessIdentity): Promise<IdentityCheck> => {
  if ((await readBootId()) !== identity.bootId) return 'other-boot';
  const stat = await readProcStat(identity.pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return 'gone';
  return stat.startTime === identity.startTime ? 'same' : 'recycled';
};

/** Sends a signal to a whole process group; false when the group no longer exists. */
export const signalGroup = (pgid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
};
