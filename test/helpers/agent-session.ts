import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type AgentWorld, createAgentWorld } from './agent-fixture.js';
import { AgentClient, type AgentProcess, okResult, spawnAgent, writeAgentConfig } from './agent-process.js';

/**
 * One real `gsm agent` process in its own world (origins, demo packages, a data directory),
 * with a protocol client. `agent` and `client` are replaced by tests that restart the agent;
 * `close` kills whichever is current and every game server a status ever reported.
 */
export interface AgentSession {
  readonly world: AgentWorld;
  readonly configFile: string;
  agent: AgentProcess;
  client: AgentClient;
  readonly gamePids: Set<number>;
  /** The `alpha` instance's status job, through `c` (the session's client by default). */
  status(c?: AgentClient): Promise<InstanceStatus>;
  close(): Promise<void>;
}

export type InstanceStatus = {
  running: boolean;
  pid?: number;
  version?: string;
  previous?: string;
  adopted: boolean;
  query?: { ok: boolean; players?: number; maxPlayers?: number; map?: string; code?: string };
};

export const startAgentSession = async (extraFiles?: ReadonlyMap<string, Buffer>): Promise<AgentSession> => {
  const world = await createAgentWorld(extraFiles);
  await mkdir(dirname(world.control), { recursive: true });
  const configFile = await writeAgentConfig(world.root, world.config());
  const agent = await spawnAgent(configFile);
  const client = await AgentClient.connect(agent.port);
  const gamePids = new Set<number>();
  const session: AgentSession = {
    world,
    configFile,
    agent,
    client,
    gamePids,
    async status(c = session.client) {
      const s = okResult<InstanceStatus>(
        await c.job(`status-${Math.random().toString(36).slice(2)}`, 'status', { instance: 'alpha' }),
      );
      if (s.pid) gamePids.add(s.pid);
      return s;
    },
    async close() {
      await session.client.close().catch(() => undefined);
      session.agent.child.kill('SIGKILL');
      for (const pid of gamePids) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await world.close();
    },
  };
  return session;
};
