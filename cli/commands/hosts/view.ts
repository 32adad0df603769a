import type { PublicHostView } from '../../client.js';
import type { Column, Output } from '../../output.js';

/** How people see hosts; shared by the hosts commands. */

export const formatTags = (tags: Readonly<Record<string, string>>): string =>
  Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

export const HOST_COLUMNS: readonly Column<PublicHostView>[] = [
  { header: 'ID', value: (h) => h.id },
  { header: 'ADDRESS', value: (h) => h.address },
  { header: 'PORT', value: (h) => h.port },
  { header: 'ROLE', value: (h) => h.role },
  { header: 'PROTOCOL', value: (h) => h.protocol },
  { header: 'STATUS', value: (h) => h.status },
  { header: 'LAST SEEN', value: (h) => h.lastSeen },
  { header: 'TAGS', value: (h) => formatTags(h.tags) },
];

export const printHost = (out: Output, json: boolean, host: PublicHostView): void => {
  if (json) {
    out.json(host);
    return;
  }
  out.details([
    ['id', host.id],
    ['address', `${host.address}:${host.port}`],
    ['role', host.role],
    ['protocol', host.protocol === 'legacy' ? `legacy (key ${host.hasLegacyKey ? 'set' : 'missing'})` : 'v2'],
    ['status', host.status],
    ['last seen', host.lastSeen],
    ['agent', host.agentVersion],
    ['tags', formatTags(host.tags)],
    ['created', host.createdAt],
    ['updated', host.updatedAt],
  ]);
  if (host.instances.length > 0) {
    out.result('');
    out.table(host.instances, [
      { header: 'INSTANCE', value: (i) => i.name },
      { header: 'GAME', value: (i) => i.game },
      { header: 'PORT', value: (i) => i.port },
      { header: 'STATE', value: (i) => i.state },
      { header: 'VERSION', value: (i) => i.version },
      {
        header: 'PLAYERS',
        value: (i) => (i.players === undefined ? undefined : `${i.players}/${i.maxPlayers ?? '?'}`),
      },
      { header: 'MAP', value: (i) => i.map },
    ]);
  }
};
