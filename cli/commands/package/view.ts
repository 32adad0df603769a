import type { PackageView } from '../../client.js';
import type { Column, Output } from '../../output.js';

/** How people see packages; shared by the package commands. */

export const PACKAGE_COLUMNS: readonly Column<PackageView>[] = [
  { header: 'ID', value: (p) => p.id },
  { header: 'FILE', value: (p) => p.fileName },
  { header: 'SIZE', value: (p) => p.size },
  { header: 'STATE', value: (p) => p.state },
  { header: 'REASON', value: (p) => p.reason },
  { header: 'UPDATED', value: (p) => p.updatedAt },
];

export const printPackage = (out: Output, json: boolean, pkg: PackageView): void => {
  if (json) {
    out.json(pkg);
    return;
  }
  out.details([
    ['id', pkg.id],
    ['game', pkg.game],
    ['version', pkg.version],
    ['file', pkg.fileName],
    ['size', pkg.size],
    ['sha256', pkg.sha256],
    ['state', pkg.state],
    ['reason', pkg.reason],
    ['origins', pkg.origins.map((o) => `${o.id}${o.verified ? '' : ' (unverified)'}`).join(', ')],
    ['created', pkg.createdAt],
    ['updated', pkg.updatedAt],
  ]);
};
