import type { ApiClient, ReleaseDetailView } from '../../client.js';
import { followRelease, isEnded } from './follow.js';

type Job = ReleaseDetailView['jobs'][number];
type Summary = Omit<ReleaseDetailView, 'jobs'>;

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** Splits a Server-Sent Events byte stream into events; comments (keep-alives) are skipped. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = 'message';
        data = [];
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
  }
}

/** How often the view is told at most, so a burst of job events makes one redraw. */
const FLUSH_MS = 200;

/**
 * Follows a release through its event stream (GET /v1/releases/:id/events), telling `onUpdate`
 * the release with its jobs as they change, and returns the final release read once more. When
 * the stream cannot be opened or closes before its `end` (an older API, a proxy, the stream's
 * 15-minute life), following goes on by polling, so the view never stops early.
 */
export const followReleaseLive = async (
  api: ApiClient,
  id: string,
  onUpdate: (detail: ReleaseDetailView) => void,
  { intervalMs = 1000, signal }: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<ReleaseDetailView> => {
  const abort = new AbortController();
  const stop = () => abort.abort(signal?.reason);
  signal?.addEventListener('abort', stop, { once: true });
  let summary: Summary | undefined;
  const jobs = new Map<string, Job>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (summary) onUpdate({ ...summary, jobs: [...jobs.values()] } as ReleaseDetailView);
  };
  let ended = false;
  try {
    const body = await api.releases.events(id, abort.signal);
    for await (const { event, data } of sseEvents(body)) {
      if (event === 'release') summary = JSON.parse(data) as Summary;
      else if (event === 'job') {
        const job = JSON.parse(data) as Job;
        jobs.set(job.id, job);
      } else if (event === 'end') {
        ended = true;
        break;
      }
      timer ??= setTimeout(flush, FLUSH_MS);
    }
  } catch (error) {
    if (signal?.aborted) throw error;
    // Any other failure of the stream: polling below takes over and reports what is wrong.
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
    abort.abort();
  }
  if (ended) {
    const final = await api.releases.get(id);
    if (isEnded(final)) {
      onUpdate(final);
      return final;
    }
  }
  return followRelease(api, id, onUpdate, { intervalMs, signal });
};
