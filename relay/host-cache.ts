import type { Host } from '../core/model/index.js';
import type { Store } from '../core/store/types.js';

/** Long enough to serve a whole wave from memory, short enough that a moved host is found soon. */
const TTL_MS = 10_000;

/**
 * Host records for dispatch, read once per host per TTL instead of once per job: a fan-out to
 * hundreds of hosts spends its store calls on the jobs, not on re-reading the same hosts.
 * Unknown hosts are not cached, so a host registered a moment ago is found at once.
 */
export class HostCache {
  readonly #store: Store;
  readonly #hosts = new Map<string, { host: Host; at: number }>();

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Reads the hosts of a shard that are not fresh here in one batch call per 100: a fan-out then
   * finds every host in memory instead of reading each one as its job starts.
   */
  async prefetch(ids: readonly string[]): Promise<void> {
    const now = Date.now();
    const stale = ids.filter((id) => {
      const hit = this.#hosts.get(id);
      return !hit || now - hit.at >= TTL_MS;
    });
    if (stale.length === 0) return;
    const at = Date.now();
    for (const host of await this.#store.hosts.findMany(stale)) this.#hosts.set(host.id, { host, at });
  }

  async find(id: string): Promise<Host | undefined> {
    const hit = this.#hosts.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.host;
    const host = await this.#store.hosts.find(id);
    if (host) this.#hosts.set(id, { host, at: Date.now() });
    else this.#hosts.delete(id);
    return host;
  }
}
