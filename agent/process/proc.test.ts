import { describe, expect, it } from 'vitest';
import { checkIdentity, identify, readProcStat } from './proc.js';

describe('/proc identity', () => {
  it('reads this process: its start time and parent', async () => {
    const stat = await readProcStat(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.startTime).toMatch(/^\d+$/);
  });

  it('tells the same process from a recycled pid and a gone one', async () => {
    const self = await identify(process.pid);
    if (!self) throw new Error('no /proc entry for this process');
    expect(await checkIdentity(self)).toBe('same');
    expect(await checkIdentity({ ...self, startTime: `${Number(self.startTime) + 1}` })).toBe('recycled');
    expect(await checkIdentity({ ...self, pid: 4_194_000 })).toBe('gone');
    expect(await readProcStat(4_194_000)).toBeUndefined();
  });
});
