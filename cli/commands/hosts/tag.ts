import { z } from 'zod';
import { TagKey } from '../../../core/model/index.js';
import { StringList, TagArg, tagsOf } from '../../args.js';
import type { ApiClient, PublicHostView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { UserError } from '../../errors.js';
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

/**
 * The API replaces tags whole, so this reads, merges and writes them back. A concurrent
 * change to the same host between the two requests is overwritten.
 */
export const tagHost = async (api: ApiClient, id: string, change: TagChange): Promise<PublicHostView> => {
  const host = await api.hosts.get(id);
  return api.hosts.update(id, { tags: mergeTags(host.tags, change) });
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
