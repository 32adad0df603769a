import { randomUUID } from 'node:crypto';
import { GsmError } from '../../core/errors.js';
import { connectAgent, deriveAgentSecret } from '../../protocol/index.js';

export interface AgentJob {
  readonly port: number;
  readonly hostId: string;
  readonly masterSecret: string;
  readonly action: string;
  readonly params?: Record<string, unknown>;
  readonly timeoutMs?: number;
}

/**
 * One job sent straight to a demo agent over the gsm protocol, for the few host-level chores
 * the action API has no verb for (making the installed demo build `current`; stopping the demo
 * games when `gsm dev` stops, so no game server outlives it). Everything an operator does
 * goes through the API and the relay instead.
 */
export const runAgentJob = async (job: AgentJob): Promise<unknown> => {
  const timeoutMs = job.timeoutMs ?? 15_000;
  const session = await connectAgent({
    host: '127.0.0.1',
    port: job.port,
    hostId: job.hostId,
    clientId: 'gsm-dev',
    secret: deriveAgentSecret(job.masterSecret, job.hostId),
    timeoutMs,
  });
  const jobId = `dev-${job.action}-${randomUUID()}`;
  const timer = setTimeout(() => void session.close(), timeoutMs);
  try {
    await session.send({ type: 'JOB', jobId, action: job.action, params: job.params ?? {} });
    for await (const message of session) {
      if (message.type !== 'RESULT' || message.jobId !== jobId) continue;
      if (message.ok) return message.result;
      throw new GsmError(
        'E_DEMO_JOB_FAILED',
        `${job.action} on ${job.hostId} failed: ${message.error?.code} ${message.error?.message}`,
      );
    }
    throw new GsmError(
      'E_DEMO_JOB_FAILED',
      `${job.action} on ${job.hostId}: no result within ${timeoutMs} ms`,
    );
  } finally {
    clearTimeout(timer);
    await session.close();
  }
};
