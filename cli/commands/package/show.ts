import { z } from 'zod';
import type { ApiClient, PackageView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { printPackage } from './view.js';

export const showPackage = (api: ApiClient, id: string): Promise<PackageView> => api.packages.get(id);

/** What the game's auto-release policy did with the package, in a line; undefined when none applied. */
export const autoReleaseText = (pkg: Pick<PackageView, 'autoRelease'>): string | undefined => {
  const outcome = pkg.autoRelease;
  if (!outcome) return undefined;
  return 'releaseId' in outcome
    ? `started release ${outcome.releaseId} (${outcome.at})`
    : `refused (${outcome.at}): ${outcome.refused}`;
};

export const packageShowCommand = defineCommand({
  description: 'Show one package: state, hash, origins, what auto-release did with it',
  args: [{ name: 'id', description: 'package id: game@version' }],
  input: z.object({ id: z.string().min(1) }),
  async handler({ id }, { api, out, json }) {
    const pkg = await showPackage(await api(), id);
    printPackage(out, json, pkg);
    const auto = json ? undefined : autoReleaseText(pkg);
    if (auto) out.details([['auto-release', auto]]);
  },
});
