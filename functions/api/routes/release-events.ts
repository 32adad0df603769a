import { createRoute } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { type Job, type ReleaseState, releaseHasEnded } from '../../../core/model/index.js';
import { sleepUnlessAborted } from '../../../core/sleep.js';
import type { Store } from '../../../core/store/types.js';
import { router } from '../router.js';
import { IdParam, problems } from '../schemas.js';
import {
  type ReleaseReads,
  type ReleaseSnapshot,
  type ReleaseSummary,
  releaseSnapshot,
} from './release-detail.js';

export interface ReleaseEventOptions extends ReleaseReads {
  /** DynamoDB pushes nothing locally: each stream reads the release this often. */
  readonly pollMs?: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  readonly keepAliveMs?: number;
  /** A stream ends after this long; clients reconnect (EventSource does by itself). */
  readonly maxLifeMs?: number;
}

export const RELEASE_EVENT_DEFAULTS = {
  pollMs: 500,
  keepAliveMs: 15_000,
  maxLifeMs: 15 * 60_000,
} as const satisfies Required<Omit<ReleaseEventOptions, keyof ReleaseReads>>;

const releaseEvents = createRoute({
  method: 'get',
  path: '/{id}/events',
  summary:
    'Server-Sent Events of a release: `release` (the release without its jobs), `job` (one host job), `end` (the terminal state)',
  request: { params: IdParam },
  responses: {
    200: {
      description: 'an event stream; it ends after the release ended, or after 15 minutes (reconnect)',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    },
    ...problems(401, 404),
  },
});

/** What makes a release event worth sending again (the write time alone is not). */
const releaseFingerprint = ({ updatedAt: _at, ...summary }: ReleaseSummary) => JSON.stringify(summary);

const jobFingerprint = (job: Job) =>
  JSON.stringify([job.state, job.progress ?? null, job.error ?? null, job.logTail ?? null]);

/**
 * GET /v1/releases/:id/events. Each stream polls the store (about every `pollMs`) and sends
 * only what changed; it stops polling as soon as the client goes away.
 */
export const releaseEventRoutes = (store: Store, options: ReleaseEventOptions = {}) => {
  const { pollMs, keepAliveMs, maxLifeMs } = { ...RELEASE_EVENT_DEFAULTS, ...options };
  // Shared reads of each release, so many streams of one release cost one read.
  const reads: ReleaseReads = { jobsView: options.jobsView, records: options.records };
  return router().openapi(releaseEvents, async (c) => {
    // Read once before the stream opens, so an unknown id is a plain 404.
    const first = await releaseSnapshot(store, c.req.valid('param').id, reads);
    const logger = c.get('logger');
    return streamSSE(
      c,
      async (stream) => {
        const stop = new AbortController();
        stream.onAbort(() => stop.abort());
        const deadline = Date.now() + maxLifeMs;
        let eventId = 0;
        let lastWrite = Date.now();
        let lastRelease = '';
        const jobsSeen = new Map<string, string>();
        const send = async (event: string, data: unknown) => {
          eventId += 1;
          await stream.writeSSE({ event, data: JSON.stringify(data), id: String(eventId) });
          lastWrite = Date.now();
        };
        const sendRelease = async ({ summary }: ReleaseSnapshot) => {
          const fingerprint = releaseFingerprint(summary);
          if (fingerprint === lastRelease) return;
          lastRelease = fingerprint;
          await send('release', summary);
        };
        const sendJobs = async (snapshot: ReleaseSnapshot) => {
          for (const job of snapshot.jobs) {
            const seen = jobFingerprint(job);
            if (jobsSeen.get(job.id) === seen) continue;
            jobsSeen.set(job.id, seen);
            await send('job', job);
          }
        };
        let snapshot = first;
        await sendRelease(snapshot);
        for (;;) {
          // The jobs first: a wave's counts then never run ahead of the job changes behind them.
          await sendJobs(snapshot);
          await sendRelease(snapshot);
          if (releaseHasEnded(snapshot.summary)) {
            await send('end', { state: snapshot.summary.state satisfies ReleaseState });
            return;
          }
          if (stop.signal.aborted || Date.now() >= deadline) return;
          await sleepUnlessAborted(Math.min(pollMs, Math.max(0, deadline - Date.now())), stop.signal);
          if (stop.signal.aborted) return;
          if (Date.now() - lastWrite >= keepAliveMs) {
            await stream.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
          snapshot = await releaseSnapshot(store, snapshot.summary.id, reads);
        }
      },
      async (error) => {
        logger.warn({ err: error, releaseId: first.summary.id }, 'release event stream failed');
      },
    ) as never;
  });
};
