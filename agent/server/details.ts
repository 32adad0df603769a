import { statfs } from 'node:fs/promises';
import os from 'node:os';

/** What the original platform's `details` printed: OS, CPU, memory and disk of the host. */
export const hostDetails = async (dataDir: string) => {
  const cpus = os.cpus();
  const disk = await statfs(dataDir);
  return {
    hostname: os.hostname(),
    os: { type: os.type(), platform: os.platform(), release: os.release(), arch: os.arch() },
    cpu: {
      model: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      mhz: cpus[0]?.speed ?? 0,
      loadavg: os.loadavg(),
    },
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    disk: {
      path: dataDir,
      totalBytes: disk.blocks * disk.bsize,
      freeBytes: disk.bavail * disk.bsize,
    },
    uptimeSec: Math.round(os.uptime()),
    agent: { pid: process.pid, node: process.version, uptimeSec: Math.round(process.uptime()) },
  };
};
