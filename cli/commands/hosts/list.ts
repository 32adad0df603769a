import { z } from 'zod';
import { HostRole } from '../../../core/model/index.js';
import { TagList, tagsOf } from '../../args.js';
import { type ApiClient, collectPages, type PublicHostView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { formatTags, HOST_COLUMNS } from './view.js';

export interface HostFilter {
  readonly tags: Readonly<Record<string, string>>;
  readonly role?: HostRole;
}

/** Every host matching the filter, across all pages. */
export const listHosts = (api: ApiClient, { tags, role }: HostFilter): Promise<PublicHostView[]> => {
  const tag = Object.entries(tags).map(([key, value]) => `${key}=${value}`);
  return collectPages((cursor) => api.hosts.list({ tag, role, cursor }));
};

export const hostsListCommand = defineCommand({
  description: 'List hosts, sorted by id',
  options: [
    {
      flags: '--tag <key=value>',
      description: 'only hosts with this tag (repeat: all must match)',
      repeatable: true,
    },
    { flags: '--role <role>', description: 'only hosts with this role: game or origin' },
  ],
  input: z.object({ tag: TagList, role: HostRole.optional() }),
  async handler({ tag, role }, { api, out, json }) {
    const filter = { tags: tagsOf(tag), role };
    const hosts = await listHosts(await api(), filter);
    if (json) {
      out.json(hosts);
      return;
    }
    if (hosts.length === 0) {
      const which = [role && `role ${role}`, tag.length > 0 && `tags ${formatTags(filter.tags)}`].filter(
        Boolean,
      );
      out.info(
        which.length > 0
          ? `no hosts with ${which.join(' and ')}`
          : 'no hosts yet; add one with `gsm hosts add`',
      );
      return;
    }
    out.table(hosts, HOST_COLUMNS);
  },
});
