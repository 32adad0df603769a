import { z } from 'zod';
import type { ApiClient, PackageView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { printPackage } from './view.js';

export const showPackage = (api: ApiClient, id: string): Promise<PackageView> => api.packages.get(id);

export const packageShowCommand = defineCommand({
  description: 'Show one package: state, hash, origins',
  args: [{ name: 'id', description: 'package id: game@version' }],
  input: z.object({ id: z.string().min(1) }),
  async handler({ id }, { api, out, json }) {
    printPackage(out, json, await showPackage(await api(), id));
  },
});
