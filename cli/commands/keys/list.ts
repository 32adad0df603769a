import { z } from 'zod';
import { type ApiClient, collectPages, type KeyView } from '../../client.js';
import { defineCommand } from '../../command.js';

export const listKeys = (api: ApiClient): Promise<KeyView[]> =>
  collectPages((cursor) => api.keys.list(cursor));

export const keysListCommand = defineCommand({
  description: 'List API keys (never the keys themselves)',
  input: z.object({}),
  async handler(_input, { api, out, json }) {
    const keys = await listKeys(await api());
    if (json) {
      out.json(keys);
      return;
    }
    out.table(keys, [
      { header: 'ID', value: (k) => k.id },
      { header: 'NAME', value: (k) => k.name },
      { header: 'ROLE', value: (k) => k.role },
      { header: 'CREATED', value: (k) => k.createdAt },
      { header: 'LAST USED', value: (k) => k.lastUsedAt },
      { header: 'REVOKED', value: (k) => k.revokedAt },
    ]);
  },
});
