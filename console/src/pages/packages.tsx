import { listAll, type PackageView } from '../api.js';
import { bytes, dateTime } from '../format.js';
import { useLoad } from '../use-load.js';

export const Packages = () => {
  const { data, error, loading } = useLoad(
    () => listAll<PackageView>('/v1/packages?limit=200', 5),
    [],
    10_000,
  );
  return (
    <section aria-labelledby="packages-title">
      <h1 id="packages-title">Packages</h1>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {!data && loading ? <p>Loading…</p> : null}
      {data && data.length === 0 ? <p>No packages yet. `gsm package push` uploads one.</p> : null}
      {data && data.length > 0 ? (
        <table class="list packages">
          <thead>
            <tr>
              <th scope="col">Package</th>
              <th scope="col">State</th>
              <th scope="col">Size</th>
              <th scope="col">SHA-256</th>
              <th scope="col">Staged on</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {data.map((pkg) => (
              <tr key={pkg.id} data-package={pkg.id}>
                <th scope="row">
                  {pkg.id}
                  <div class="hint">{pkg.fileName}</div>
                </th>
                <td>
                  <span class={`pill state-${pkg.state}`}>{pkg.state}</span>
                  {pkg.reason ? <div class="reason">{pkg.reason}</div> : null}
                </td>
                <td>{bytes(pkg.size)}</td>
                <td>
                  {pkg.sha256 ? (
                    <code class="hash" title={pkg.sha256}>
                      {pkg.sha256.slice(0, 12)}…
                    </code>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  {pkg.origins.length === 0 ? (
                    '—'
                  ) : (
                    <ul class="origins">
                      {pkg.origins.map((origin) => (
                        <li key={origin.id} class={origin.verified ? 'ok' : 'error'}>
                          {origin.verified ? '✓' : '✗'} {origin.id}
                          {origin.error ? `: ${origin.error}` : ''}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{dateTime(pkg.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
