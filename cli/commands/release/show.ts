import { z } from 'zod';
import { defineCommand } from '../../command.js';
import { printRelease } from './view.js';
import { watchRelease } from './watch.js';

export const releaseShowCommand = defineCommand({
  description: 'Show one release: state, waves, every host and why it failed',
  args: [{ name: 'id', description: 'release id' }],
  options: [{ flags: '--watch', description: 'follow it live until it ends; exit 0 only if it succeeded' }],
  input: z.object({ id: z.string().trim().min(1), watch: z.boolean().default(false) }),
  async handler({ id, watch }, ctx) {
    const client = await ctx.api();
    if (watch) {
      await watchRelease(client, id, ctx);
      return;
    }
    printRelease(ctx.out, ctx.json, await client.releases.get(id));
  },
});
