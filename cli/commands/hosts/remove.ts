import { z } from 'zod';
import type { ApiClient } from '../../client.js';
import { defineCommand } from '../../command.js';

export const removeHost = async (api: ApiClient, id: string): Promise<void> => {
  await api.hosts.remove(id);
};

export const hostsRemoveCommand = defineCommand({
  description: 'Forget a host (its agent is not touched)',
  args: [{ name: 'id', description: 'host id' }],
  input: z.object({ id: z.string().min(1) }),
  async handler({ id }, { api, out, json }) {
    await removeHost(await api(), id);
    if (json) {
      out.json({ id, removed: true });
      return;
    }
    out.info(`host '${id}' removed`);
  },
});
