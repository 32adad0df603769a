import { z } from 'zod';
import { Id, Version } from '../../../core/model/index.js';
import { type ApiClient, collectPages, type PackageView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { PACKAGE_COLUMNS } from './view.js';

/** Every package, or those of a game (and version), across all pages. */
export const listPackages = (
  api: ApiClient,
  filter: { game?: string; version?: string },
): Promise<PackageView[]> => collectPages((cursor) => api.packages.list({ ...filter, cursor }));

export const packageListCommand = defineCommand({
  description: 'List packages, by game and version',
  options: [
    { flags: '--game <game>', description: 'only this game' },
    { flags: '--version <version>', description: 'only this version (needs --game)' },
  ],
  input: z
    .object({ game: Id.optional(), version: Version.optional() })
    .refine((f) => f.version === undefined || f.game !== undefined, {
      path: ['version'],
      message: 'give --game too',
    }),
  async handler(filter, { api, out, json }) {
    const packages = await listPackages(await api(), filter);
    if (json) {
      out.json(packages);
      return;
    }
    if (packages.length === 0) {
      out.info('no packages; push one with `gsm package push FILE --game G --version V`');
      return;
    }
    out.table(packages, PACKAGE_COLUMNS);
  },
});
