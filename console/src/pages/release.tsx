import { useState } from 'preact/hooks';
import { ApiError, canOperate, type ReleaseDetailView, type Role, request } from '../api.js';
import { HostJobs, StateList, Waves } from '../components/release-parts.js';
import { WorkflowGraph } from '../components/workflow-graph.js';
import { counts, dateTime, targetText } from '../format.js';
import { TERMINAL, useLiveRelease } from '../release-live.js';
import { Link } from '../router.js';
import type { StreamStatus } from '../sse.js';

type Verb = 'approve' | 'reject' | 'cancel' | 'rollback';

const VERBS: ReadonlyArray<{ verb: Verb; label: string; when: (state: string) => boolean; asks: boolean }> = [
  { verb: 'approve', label: 'Approve', when: (s) => s === 'waiting_approval', asks: false },
  { verb: 'reject', label: 'Reject', when: (s) => s === 'waiting_approval', asks: true },
  {
    verb: 'cancel',
    label: 'Cancel release',
    when: (s) => ['pending', 'running', 'waiting_approval'].includes(s),
    asks: true,
  },
  { verb: 'rollback', label: 'Roll back', when: (s) => s === 'succeeded' || s === 'failed', asks: true },
];

const STREAM_TEXT: Readonly<Record<StreamStatus, string>> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  ended: 'ended',
  unavailable: 'no event stream: refreshing every few seconds',
};

const Actions = ({ release, onDone }: { release: ReleaseDetailView; onDone: () => void }) => {
  const [asking, setAsking] = useState<Verb | undefined>(undefined);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | undefined>(undefined);
  const available = VERBS.filter(({ when }) => when(release.state));

  const run = async (verb: Verb) => {
    setBusy(true);
    setMessage(undefined);
    try {
      await request(`/v1/releases/${encodeURIComponent(release.id)}/${verb}`, {
        method: 'POST',
        body: reason.trim() ? { reason: reason.trim() } : {},
      });
      setMessage({ error: false, text: `${verb} sent.` });
      setAsking(undefined);
      setReason('');
      onDone();
    } catch (failure) {
      const text = failure instanceof ApiError ? `${failure.message} (${failure.code})` : String(failure);
      setMessage({ error: true, text: `Could not ${verb}: ${text}` });
    } finally {
      setBusy(false);
    }
  };

  if (available.length === 0 && !message) return null;
  return (
    <div class="actions">
      {available.map(({ verb, label, asks }) => (
        <button
          key={verb}
          type="button"
          class={verb === 'approve' ? 'primary' : 'danger'}
          disabled={busy}
          onClick={() => (asks ? setAsking(verb) : run(verb))}
        >
          {label}
          {asks ? '…' : ''}
        </button>
      ))}
      {asking ? (
        <form
          class="confirm"
          onSubmit={(event) => {
            event.preventDefault();
            void run(asking);
          }}
        >
          <label for="action-reason">Reason for {asking} (optional)</label>
          <input
            id="action-reason"
            value={reason}
            maxLength={500}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <button type="submit" class="danger" disabled={busy}>
            Confirm {asking}
          </button>
          <button type="button" onClick={() => setAsking(undefined)}>
            Keep it
          </button>
        </form>
      ) : null}
      {message ? (
        <p class={message.error ? 'error' : 'ok'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      ) : null}
    </div>
  );
};

export const ReleasePage = ({
  id,
  role,
  onUnauthorized,
}: {
  id: string;
  role: Role | undefined;
  onUnauthorized: () => void;
}) => {
  const { detail, workflow, error, stream, refresh } = useLiveRelease(id, onUnauthorized);
  const consoleUrl = detail?.consoleUrl ?? workflow?.consoleUrl;
  return (
    <section aria-labelledby="release-title" class="release">
      <p>
        <Link to="/releases">← Releases</Link>
      </p>
      <h1 id="release-title">
        Release <code>{id}</code>
      </h1>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {detail ? (
        <>
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <span class={`pill state-${detail.state}`} data-release-state={detail.state}>
                {detail.state.replace('_', ' ')}
              </span>
              {detail.reason ? <span class="reason"> {detail.reason}</span> : null}
            </dd>
            <dt>Package</dt>
            <dd>{detail.packageId}</dd>
            <dt>Target</dt>
            <dd>{targetText(detail.target)}</dd>
            <dt>Hosts</dt>
            <dd>{counts(detail.progress)}</dd>
            <dt>Created</dt>
            <dd>{dateTime(detail.createdAt)}</dd>
            <dt>Updates</dt>
            <dd class={`stream stream-${stream}`} aria-live="polite">
              {TERMINAL.includes(detail.state) && stream !== 'live' ? 'release ended' : STREAM_TEXT[stream]}
            </dd>
            {consoleUrl ? (
              <>
                <dt>AWS</dt>
                <dd>
                  <a href={consoleUrl} target="_blank" rel="noreferrer noopener">
                    Execution in the AWS console
                  </a>
                </dd>
              </>
            ) : null}
          </dl>
          {canOperate(role) ? <Actions release={detail} onDone={refresh} /> : null}
        </>
      ) : error ? null : (
        <p>Loading…</p>
      )}
      <section aria-labelledby="workflow-title">
        <h2 id="workflow-title">Workflow</h2>
        {workflow ? (
          <>
            <WorkflowGraph definition={workflow.definition} states={workflow.states} />
            <StateList states={workflow.states} />
          </>
        ) : (
          <p>Loading the workflow…</p>
        )}
      </section>
      {detail ? (
        <>
          <Waves release={detail} />
          <HostJobs jobs={detail.jobs} />
        </>
      ) : null}
    </section>
  );
};
