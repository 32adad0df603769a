import { listAll, type ReleaseView } from '../api.js';
import { dateTime, targetText } from '../format.js';
import { Link } from '../router.js';
import { useLoad } from '../use-load.js';

export const Releases = () => {
  // The API lists releases newest first.
  const { data, error, loading } = useLoad(
    () => listAll<ReleaseView>('/v1/releases?limit=100', 3),
    [],
    5_000,
  );
  return (
    <section aria-labelledby="releases-title">
      <h1 id="releases-title">Releases</h1>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {!data && loading ? <p>Loading…</p> : null}
      {data && data.length === 0 ? <p>No releases yet. `gsm release create` starts one.</p> : null}
      {data && data.length > 0 ? (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Release</th>
              <th scope="col">Package</th>
              <th scope="col">Target</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {data.map((release) => (
              <tr key={release.id}>
                <td>
                  <Link to={`/releases/${encodeURIComponent(release.id)}`}>{release.id}</Link>
                </td>
                <td>{release.packageId}</td>
                <td>{targetText(release.target)}</td>
                <td>
                  <span class={`pill state-${release.state}`}>{release.state.replace('_', ' ')}</span>
                </td>
                <td>{dateTime(release.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
