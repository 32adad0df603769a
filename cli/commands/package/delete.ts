import { z } from 'zod';
import type { ApiClient } from '../../client.js';
import { defineCommand } from '../../command.js';

export const deletePackage = (api: ApiClient, id: string) => api.packages.remove(id);

export const packageDeleteCommand = defineCommand({
  description: 'Delete a package and its stored file (refused while a release or a host uses it)',
  args: [{ name: 'id', description: 'package id: game@version' }],
  input: z.object({ id: z.string().min(1) }),
  async handler({ id }, { api, out, json }) {
    const removal = await deletePackage(await api(), id);
    if (json) {
      out.json(removal);
      return;
    }
    for (const note of removal.notes) out.warn(note);
    out.info(`package '${id}' deleted`);
  },
});
