// The release bench's game and packages. A deploy starts the game on every host, and 500 demo
// games (Node, ~40 MB each) do not fit one machine, so each agent's config adds `benchgame`: a
// Python program that only listens on its TCP port (checked with the `tcp` health kind), ~10 MB.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create } from 'tar';

export const BENCH_GAME = 'benchgame';

/** Goes in `games[]` of each bench agent's config (agent/README.md, "Custom games"). */
export const benchGameDefinition = {
  name: BENCH_GAME,
  displayName: 'gsm release bench game (TCP listener)',
  // `-S`: no site packages, the lightest interpreter start-up.
  executable: 'python3',
  args: ['-S', 'server.py', '{host}', '{port}'],
  defaultPort: 20000,
  maxPlayers: 1,
  stop: { kind: 'signal', signal: 'SIGTERM' },
  stopGraceMs: 2000,
  health: { kind: 'tcp', timeoutMs: 1000 },
  ports: [{ name: 'game', protocol: 'tcp' }],
  actions: ['install', 'start', 'stop', 'restart', 'status', 'rollback', 'uninstall'],
};

// Game servers outlive their agent by design (re-adoption). This one leaves with the bench's
// agent process instead, so a bench that dies leaves no 500 listeners behind.
const SERVER_PY = `import os, socket, sys, threading, time
agent = os.getppid()
def leave_with_agent():
    while os.getppid() == agent:
        time.sleep(1)
    os._exit(0)
threading.Thread(target=leave_with_agent, daemon=True).start()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
    s.accept()[0].close()
`;

export interface BenchPackage {
  readonly version: string;
  readonly url: string;
  readonly sha256: string;
  readonly size: number;
}

/** Exactly `sizeMb` MiB of random bytes. */
const writeRandomFile = (file: string, sizeMb: number): void => {
  const fd = openSync(file, 'w');
  const chunk = Buffer.allocUnsafe(2 ** 20);
  for (let i = 0; i < sizeMb; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
};

const sha256Of = async (file: string): Promise<string> => {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
};

/**
 * `benchgame-<version>.tar.gz` under `<originRoot>/packages/benchgame/<version>/`: server.py,
 * VERSION and `sizeMb` MiB of random bytes (incompressible, like a build's .pak files).
 */
export const buildBenchPackage = async (options: {
  readonly workDir: string;
  readonly originRoot: string;
  readonly originBase: string;
  readonly version: string;
  readonly sizeMb: number;
}): Promise<BenchPackage> => {
  const src = join(options.workDir, 'build', options.version);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'server.py'), SERVER_PY);
  await writeFile(join(src, 'VERSION'), `${options.version}\n`);
  const files = ['server.py', 'VERSION'];
  if (options.sizeMb > 0) {
    writeRandomFile(join(src, 'data.bin'), options.sizeMb);
    files.push('data.bin');
  }
  const path = `packages/${BENCH_GAME}/${options.version}/${BENCH_GAME}-${options.version}.tar.gz`;
  const file = join(options.originRoot, path);
  await mkdir(join(file, '..'), { recursive: true });
  await create({ gzip: true, file, cwd: src, portable: true }, files);
  // nginx's worker is not root: every folder on the way must be readable.
  for (let dir = join(file, '..'); dir.startsWith(options.workDir); dir = join(dir, '..'))
    await chmod(dir, 0o755);
  return {
    version: options.version,
    url: `${options.originBase}/${path}`,
    sha256: await sha256Of(file),
    size: (await stat(file)).size,
  };
};
