/**
 * The world an agent end-to-end test runs in: demo packages built into a temp folder, served by
 * a good, a corrupt and a dead loopback origin, a free game port, a control file, and agent
 * configs that point into one data folder.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { AgentConfigInput } from '../../agent/config.js';
import { buildDemoPackages, type DemoPackage } from '../../local/demo-game/build.js';
import { freeTcpPort, freeUdpPort, tempDir } from '../../local/demo-game/harness.js';
import { AGENT_SECRET } from './agent-process.js';
import { deadOriginUrl, startOrigin, type TestOrigin } from './http-origin.js';

export interface AgentWorld {
  readonly root: string;
  readonly dataDir: string;
  readonly control: string;
  readonly gamePort: number;
  readonly agentPort: number;
  readonly packages: readonly DemoPackage[];
  readonly good: TestOrigin;
  readonly corrupt: TestOrigin;
  readonly dead: string;
  /** The package of `version` in `format`, with the URL the good origin serves it at. */
  pkg(version: string, format: 'tar.gz' | 'tar.bz2'): DemoPackage & { name: string; url: string };
  config(overrides?: Partial<AgentConfigInput>): AgentConfigInput;
  close(): Promise<void>;
}

export const createAgentWorld = async (
  extraFiles: ReadonlyMap<string, Buffer> = new Map(),
): Promise<AgentWorld> => {
  const root = await tempDir('gsm-agent-e2e-');
  const packages = await buildDemoPackages(join(root, 'packages'), { formats: ['tar.gz', 'tar.bz2'] });
  const files = new Map<string, Buffer>(extraFiles);
  for (const p of packages) files.set(relative(join(root, 'packages'), p.file), await readFile(p.file));
  const good = await startOrigin(files);
  const corrupt = await startOrigin(files, { corrupt: true });
  const dead = await deadOriginUrl('gone');
  const gamePort = await freeUdpPort();
  const agentPort = await freeTcpPort();
  const dataDir = join(root, 'data');
  const control = join(root, 'control', 'alpha.json');
  const pkg = (version: string, format: 'tar.gz' | 'tar.bz2') => {
    const found = packages.find((p) => p.version === version && p.format === format);
    if (!found) throw new Error(`no demo package ${version} ${format}`);
    const name = relative(join(root, 'packages'), found.file);
    return { ...found, name, url: good.url(name) };
  };
  return {
    root,
    dataDir,
    control,
    gamePort,
    agentPort,
    packages,
    good,
    corrupt,
    dead,
    pkg,
    config: (overrides = {}) => ({
      hostId: 'host-1',
      listen: { host: '127.0.0.1', port: agentPort },
      secrets: { current: AGENT_SECRET },
      dataDir,
      allowRoot: true,
      handshakeTimeoutSec: 1,
      healthTimeoutSec: 5,
      drain: { timeoutSec: 10, intervalMs: 150 },
      maxReleaseBytes: 20 * 1024 * 1024,
      instances: [
        { name: 'alpha', game: 'demo', port: gamePort, control },
        { name: 'ghost', game: 'quake9', port: gamePort + 1 },
      ],
      ...overrides,
    }),
    close: async () => {
      await Promise.all([good.close(), corrupt.close()]);
    },
  };
};

/** Every file and link below `dir`, relative to it. */
export const listTree = async (dir: string): Promise<string[]> => {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
};
