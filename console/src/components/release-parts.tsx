import type { JobView, ReleaseDetailView, StateStatus } from '../api.js';
import { bytes, counts } from '../format.js';

/** The last log lines a host row shows; the whole tail is in the job record. */
const LOG_LINES = 5;

export const Waves = ({ release }: { release: ReleaseDetailView }) => (
  <section aria-labelledby="waves-title">
    <h2 id="waves-title">Waves</h2>
    {release.waves.length === 0 ? (
      <p>Not planned yet.</p>
    ) : (
      <table class="list waves">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Kind</th>
            <th scope="col">Hosts</th>
            <th scope="col">Gate</th>
            <th scope="col">Jobs</th>
          </tr>
        </thead>
        <tbody>
          {release.waves.map((wave) => (
            <tr key={wave.index} data-wave={wave.index}>
              <td>{wave.index + 1}</td>
              <td>{wave.kind}</td>
              <td>{wave.hostIds.length}</td>
              <td>
                {wave.gate
                  ? release.state === 'waiting_approval' && release.approvalWave === wave.index
                    ? 'waiting for approval'
                    : 'approval'
                  : '—'}
              </td>
              <td>{counts(wave.progress)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
);

const Progress = ({ job }: { job: JobView }) => {
  const { progress } = job;
  if (progress?.bytes === undefined) return <span>{progress?.phase ?? '—'}</span>;
  const label = `${progress.phase}: ${bytes(progress.bytes)}${progress.total ? ` of ${bytes(progress.total)}` : ''}`;
  return (
    <div class="progress">
      <progress
        value={progress.bytes}
        max={progress.total && progress.total >= progress.bytes ? progress.total : undefined}
        aria-label={`${job.hostId} ${label}`}
      />
      <span>{label}</span>
    </div>
  );
};

const byHost = (a: JobView, b: JobView) =>
  a.action === b.action ? a.hostId.localeCompare(b.hostId) : a.action === 'deploy' ? -1 : 1;

export const HostJobs = ({ jobs }: { jobs: readonly JobView[] }) => (
  <section aria-labelledby="hosts-title">
    <h2 id="hosts-title">Hosts</h2>
    {jobs.length === 0 ? (
      <p>No host jobs yet.</p>
    ) : (
      <table class="list jobs">
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Job</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col">Error</th>
            <th scope="col">Last log lines</th>
          </tr>
        </thead>
        <tbody>
          {[...jobs].sort(byHost).map((job) => (
            <tr key={job.id} data-host={job.hostId} data-job-state={job.state}>
              <th scope="row">{job.hostId}</th>
              <td>{job.action}</td>
              <td>
                <span class={`pill state-${job.state}`}>{job.state.replace('_', ' ')}</span>
              </td>
              <td>
                <Progress job={job} />
              </td>
              <td class="job-error">{job.error ? `${job.error.code}: ${job.error.message}` : ''}</td>
              <td>
                {job.logTail?.length ? <pre class="log">{job.logTail.slice(-LOG_LINES).join('\n')}</pre> : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
);

/** The states and their status as text: what the drawing shows, for screen readers and search. */
export const StateList = ({ states }: { states: Readonly<Record<string, StateStatus>> }) => (
  <details class="state-list">
    <summary>Workflow states as a list</summary>
    <ul class="state-list-items">
      {Object.entries(states).map(([name, status]) => (
        <li key={name}>
          {name}: <span class={`pill status-${status}`}>{status}</span>
        </li>
      ))}
    </ul>
  </details>
);
