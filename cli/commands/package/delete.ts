import { z } from 'zod';
import type { ApiClient } from '../../client.js';
import { defineCommand } from '../../command.js';
import { UserError } from '../../errors.js';

/** A DELETE answers `deleting` while origin copies are still being removed; asking again picks that up. */
const AGAIN_AFTER_MS = 1000;
const GIVE_UP_AFTER_MS = 10 * 60_000;

export const deletePackage = async (api: ApiClient, id: string) => {
  const deadline = Date.now() + GIVE_UP_AFTER_MS;
  for (;;) {
    const removal = await api.packages.remove(id);
    if (removal.state === 'removed') return removal;
    if (Date.now() > deadline) {
      throw new UserError(`package '${id}' is still deleting (action ${removal.actionId ?? '?'})`, {
        hint: `run \`gsm package delete ${id}\` again later`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, AGAIN_AFTER_MS));
  }
};

export const packageDeleteCommand = defineCommand({
  description:
    'Delete a package, its stored file and its copies on the origins (refused while a release or a host uses it)',
  args: [{ name: 'id', description: 'package id: game@version' }],
  input: z.object({ id: z.string().min(1) }),
  async handler({ id }, { api, out, json }) {
    const removal = await deletePackage(await api(), id);
    if (json) {
      out.json(removal);
      return;
    }
    for (const note of removal.notes) out.warn(note);
    const cleaned = removal.origins.filter((o) => o.removed).length;
    out.info(
      `package '${id}' deleted${removal.origins.length > 0 ? ` (copies removed from ${cleaned} of ${removal.origins.length} origins)` : ''}`,
    );
  },
});
