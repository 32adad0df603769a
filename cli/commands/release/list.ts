import { z } from 'zod';
import { IntArg } from '../../args.js';
import type { ReleaseView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { RELEASE_COLUMNS } from './view.js';

export const releaseListCommand = defineCommand({
  description: 'List releases, newest first',
  options: [{ flags: '--limit <n>', description: 'at most this many (default 50)' }],
  input: z.object({ limit: IntArg.pipe(z.number().int().min(1).max(1000)).default(50) }),
  async handler({ limit }, { api, out, json }) {
    const client = await api();
    const releases: ReleaseView[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.releases.list(cursor);
      releases.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor !== undefined && releases.length < limit);
    const shown = releases.slice(0, limit);
    if (json) {
      out.json(shown);
      return;
    }
    if (shown.length === 0) {
      out.info('no releases; start one with `gsm release create --package G@V --target group=...`');
      return;
    }
    out.table(shown, RELEASE_COLUMNS);
  },
});
