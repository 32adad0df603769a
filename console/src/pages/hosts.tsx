import { useState } from 'preact/hooks';
import { type HostView, listAll } from '../api.js';
import { ago, tagQuery } from '../format.js';
import { navigate } from '../router.js';
import { useLoad } from '../use-load.js';

const Instances = ({ host }: { host: HostView }) =>
  host.instances.length === 0 ? (
    <span>—</span>
  ) : (
    <ul class="instances">
      {host.instances.map((instance) => (
        <li key={instance.name}>
          <strong>{instance.name}</strong> {instance.game} {instance.version ?? 'no version'} ·{' '}
          <span class={`pill game-${instance.state}`}>{instance.state}</span>
          {instance.players !== undefined
            ? ` · ${instance.players}/${instance.maxPlayers ?? '?'} players${instance.map ? ` on ${instance.map}` : ''}`
            : ''}
        </li>
      ))}
    </ul>
  );

export const Hosts = ({ query }: { query: URLSearchParams }) => {
  const applied = query.getAll('tag').join(' ');
  const [filter, setFilter] = useState(applied);
  const [invalid, setInvalid] = useState(false);
  const tags = tagQuery(applied) ?? '';
  const { data, error, loading } = useLoad(
    () => listAll<HostView>(`/v1/hosts?limit=500${tags ? `&${tags}` : ''}`),
    [tags],
    5_000,
  );

  const apply = (event: Event) => {
    event.preventDefault();
    const next = tagQuery(filter);
    setInvalid(next === undefined);
    if (next !== undefined) navigate(`/hosts${next ? `?${next}` : ''}`);
  };

  return (
    <section aria-labelledby="hosts-title">
      <h1 id="hosts-title">Hosts</h1>
      <form class="filter" onSubmit={apply}>
        <label for="tag-filter">Filter by tag</label>
        <input
          id="tag-filter"
          placeholder="group=demo region=eu"
          value={filter}
          onInput={(event) => setFilter(event.currentTarget.value)}
          aria-invalid={invalid ? 'true' : undefined}
          aria-describedby="tag-filter-help"
        />
        <button type="submit">Filter</button>
        <span id="tag-filter-help" class={invalid ? 'error' : 'hint'}>
          {invalid
            ? 'Write each tag as key=value, separated by spaces.'
            : 'key=value pairs; every one must match'}
        </span>
      </form>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {!data && loading ? <p>Loading…</p> : null}
      {data ? (
        <table class="list hosts">
          <caption>
            {data.length} host{data.length === 1 ? '' : 's'}
            {applied ? ` with ${applied}` : ''}, {data.filter((h) => h.status === 'online').length} online
          </caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Status</th>
              <th scope="col">Role</th>
              <th scope="col">Tags</th>
              <th scope="col">Games (version, state, players)</th>
              <th scope="col">Agent</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {data.map((host) => (
              <tr key={host.id} data-host={host.id}>
                <th scope="row">{host.id}</th>
                <td>
                  <span class={`pill host-${host.status}`}>{host.status}</span>
                </td>
                <td>{host.role}</td>
                <td>
                  {Object.entries(host.tags).map(([key, value]) => (
                    <span key={key} class="tag">
                      {key}={value}
                    </span>
                  ))}
                </td>
                <td>
                  <Instances host={host} />
                </td>
                <td>{host.agentVersion ?? '—'}</td>
                <td title={host.lastSeen ?? ''}>{ago(host.lastSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
