import { z } from 'zod';
import type { ApiClient, PublicHostView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { printHost } from './view.js';

export const showHost = (api: ApiClient, id: string): Promise<PublicHostView> => api.hosts.get(id);

export const hostsShowCommand = defineCommand({
  description: 'Show one host: address, status, tags and its game instances',
  args: [{ name: 'id', description: 'host id' }],
  input: z.object({ id: z.string().min(1) }),
  async handler({ id }, { api, out, json }) {
    printHost(out, json, await showHost(await api(), id));
  },
});
