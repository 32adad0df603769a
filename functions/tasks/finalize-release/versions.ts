import { type Job, type Release, UNKNOWN_VERSION } from '../../../core/model/index.js';
import type { Store } from '../../../core/store/types.js';

/** Host lookups at once, for the hosts whose version the jobs do not tell. */
const PARALLEL = 25;

const versionIn = (result: Job['result'], field: 'version' | 'previous'): string | undefined => {
  const value = result?.[field];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

/**
 * The version each target host ended on. The agent's `deploy` and `rollback` results name it
 * (`version`, and `previous` for what a deploy replaced); a host whose deploy did not succeed
 * never switched (or switched itself back), so it is on the version it ran when the release was
 * planned. Only where neither tells, the host record answers: the monitor may have seen it
 * mid-deploy, so it is the last resort.
 */
export const hostVersions = async (
  store: Store,
  release: Pick<Release, 'game' | 'version' | 'hostIds' | 'versionsBefore'>,
  deploys: readonly Job[],
  rollbacks: readonly Job[],
): Promise<Record<string, string>> => {
  const deployOf = new Map(deploys.map((job) => [job.hostId, job]));
  const rollbackOf = new Map(rollbacks.map((job) => [job.hostId, job]));
  const out: Record<string, string> = {};
  const unchanged: string[] = [];
  for (const hostId of release.hostIds) {
    const deploy = deployOf.get(hostId);
    const rollback = rollbackOf.get(hostId);
    const before = release.versionsBefore?.[hostId];
    if (deploy?.state !== 'succeeded') {
      if (before) out[hostId] = before;
      else unchanged.push(hostId);
    } else if (rollback?.state === 'succeeded') {
      const back = versionIn(rollback.result, 'version') ?? versionIn(deploy.result, 'previous') ?? before;
      if (back) out[hostId] = back;
      else unchanged.push(hostId);
    } else {
      out[hostId] = versionIn(deploy.result, 'version') ?? release.version;
    }
  }
  for (let i = 0; i < unchanged.length; i += PARALLEL) {
    const batch = unchanged.slice(i, i + PARALLEL);
    const hosts = await Promise.all(batch.map((id) => store.hosts.find(id)));
    batch.forEach((hostId, j) => {
      const instance = hosts[j]?.instances.find((candidate) => candidate.game === release.game);
      out[hostId] = instance?.version ?? UNKNOWN_VERSION;
    });
  }
  return out;
};

/** How many hosts are on each version: `{"1.1.0": 11, "1.0.0": 1}`. */
export const versionSummary = (versions: Readonly<Record<string, string>>): Record<string, number> => {
  const summary: Record<string, number> = {};
  for (const version of Object.values(versions)) summary[version] = (summary[version] ?? 0) + 1;
  return summary;
};
