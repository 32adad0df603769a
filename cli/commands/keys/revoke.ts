import { z } from 'zod';
import type { ApiClient, KeyView } from '../../client.js';
import { defineCommand } from '../../command.js';

export const revokeKey = (api: ApiClient, id: string): Promise<KeyView> => api.keys.revoke(id);

export const keysRevokeCommand = defineCommand({
  description: 'Revoke an API key: requests with it fail from now on',
  args: [{ name: 'id', description: 'key id (from `gsm keys list`)' }],
  input: z.object({ id: z.string().min(1) }),
  async handler({ id }, { api, out, json }) {
    const revoked = await revokeKey(await api(), id);
    if (json) {
      out.json(revoked);
      return;
    }
    out.info(`key '${revoked.name}' (id ${revoked.id}) revoked at ${revoked.revokedAt ?? 'now'}`);
  },
});
