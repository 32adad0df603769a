import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  authHeaders,
  type JobView,
  type ReleaseDetailView,
  request,
  type WorkflowView,
} from './api.js';
import { followEvents, type StreamStatus } from './sse.js';

export const TERMINAL = ['succeeded', 'failed', 'rolled_back', 'cancelled'];

/** While the event stream is down (or not there at all), the page polls instead. */
const POLL_MS = 3_000;
const WORKFLOW_GAP_MS = 1_000;

export interface LiveRelease {
  readonly detail: ReleaseDetailView | undefined;
  readonly workflow: WorkflowView | undefined;
  readonly error: string | undefined;
  readonly stream: StreamStatus;
  /** After an operator's action: the stream brings the rest. */
  readonly refresh: () => void;
}

const upsert = (jobs: readonly JobView[], job: JobView): JobView[] => {
  const index = jobs.findIndex((candidate) => candidate.id === job.id);
  if (index === -1) return [...jobs, job];
  const copy = [...jobs];
  copy[index] = job;
  return copy;
};

/**
 * A release kept current: loaded once, then updated from GET /v1/releases/:id/events (release
 * and job events, no reload); its workflow statuses are fetched again after each release event.
 */
export const useLiveRelease = (id: string, onUnauthorized: () => void): LiveRelease => {
  const [detail, setDetail] = useState<ReleaseDetailView | undefined>(undefined);
  const [workflow, setWorkflow] = useState<WorkflowView | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [stream, setStream] = useState<StreamStatus>('connecting');
  const workflowFetch = useRef<{ running: boolean; again: boolean }>({ running: false, again: false });
  const path = `/v1/releases/${encodeURIComponent(id)}`;

  const fetchWorkflow = async () => {
    const state = workflowFetch.current;
    // One fetch at a time; events during it ask for one more after it.
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    try {
      do {
        state.again = false;
        setWorkflow(await request<WorkflowView>(`${path}/workflow`));
        // Each fetch reads the whole execution history: at most one a second, however busy the release.
        if (state.again) await new Promise((resolve) => setTimeout(resolve, WORKFLOW_GAP_MS));
      } while (state.again);
    } catch (failure) {
      setError(`workflow: ${(failure as Error).message}`);
    } finally {
      state.running = false;
    }
  };
  const fetchDetail = async () => {
    try {
      setDetail(await request<ReleaseDetailView>(path));
      setError(undefined);
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 404
          ? `No release '${id}'.`
          : (failure as Error).message,
      );
    }
  };
  const refresh = () => {
    void fetchDetail();
    void fetchWorkflow();
  };

  // Everything here follows the release id.
  useEffect(() => {
    setDetail(undefined);
    setWorkflow(undefined);
    refresh();
    const abort = new AbortController();
    void followEvents({
      url: `${path}/events`,
      headers: authHeaders(),
      signal: abort.signal,
      onUnauthorized,
      onStatus: (status) => setStream(status),
      onEvent: (event) => {
        if (event.event === 'release') {
          const release = JSON.parse(event.data) as Omit<ReleaseDetailView, 'jobs'>;
          setDetail((previous) => ({ ...release, jobs: previous?.jobs ?? [] }));
          void fetchWorkflow();
        } else if (event.event === 'job') {
          const job = JSON.parse(event.data) as JobView;
          setDetail((previous) => (previous ? { ...previous, jobs: upsert(previous.jobs, job) } : previous));
        } else if (event.event === 'end') {
          refresh();
        }
      },
    });
    return () => abort.abort();
  }, [id]);

  const ended = detail ? TERMINAL.includes(detail.state) : false;
  // Polls only while the stream is down.
  useEffect(() => {
    if (stream === 'live' || stream === 'ended' || ended) return;
    const timer = setInterval(refresh, POLL_MS);
    return () => clearInterval(timer);
  }, [stream, ended, id]);

  return { detail, workflow, error, stream, refresh };
};
