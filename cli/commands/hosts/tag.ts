import { z } from 'zod';
import { TagKey } from '../../../core/model/index.js';
import { StringList, TagArg, tagsOf } from '../../args.js';
import type { ApiClient, PublicHostView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { ApiError, UserError } from '../../errors.js';
import { printHost } from './view.js';

export interface TagChange {
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export const mergeTags = (
  current: Readonly<Record<string, string>>,
  { set, remove }: TagChange,
): Record<string, string> => {
  const tags = { ...current, ...set };
  for (const key of remove) delete tags[key];
  return tags;
};

/** The monitor bumps a host's revision on every sweep, so a read may be stale by the write. */
const TAG_ATTEMPTS = 5;

/**
 * The API replaces tags whole, so this reads, merges and writes them back, on the condition
 * that the host is still at the revision read (If-Match). A change in between (another
 * operator's tags, a monitor sweep) makes it read and merge again: nothing is overwritten.
 */
export const tagHost = async (api: ApiClient, id: string, change: TagChange): Promise<PublicHostView> => {
  for (let attempt = 1; ; attempt++) {
    const host = await api.hosts.get(id);
    try {
      return await api.hosts.update(id, { tags: mergeTags(host.tags, change) }, host.revision);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409) || attempt >= TAG_ATTEMPTS) throw error;
    }
  }
};

export const hostsTagCommand = defineCommand({
  description: 'Set tags on a host (key=value), or remove them (--remove key); other tags are kept',
  args: [
    { name: 'id', description: 'host id' },
    { name: 'tags', description: 'tags to set, key=value', variadic: true, optional: true },
  ],
  options: [{ flags: '--remove <key>', description: 'remove this tag (repeat for more)', repeatable: true }],
  input: z
    .object({
      id: z.string().min(1),
      tags: z.array(TagArg).default([]),
      remove: StringList.pipe(z.array(TagKey)),
    })
    .transform(({ id, tags, remove }) => ({ id, change: { set: tagsOf(tags), remove } })),
  async handler({ id, change }, { api, out, json }) {
    if (Object.keys(change.set).length === 0 && change.remove.length === 0) {
      throw new UserError('nothing to change', { hint: `give key=value tags to set, or --remove key` });
    }
    const host = await tagHost(await api(), id, change);
    if (!json) out.info(`host '${host.id}' tags updated`);
    printHost(out, json, host);
  },
});
