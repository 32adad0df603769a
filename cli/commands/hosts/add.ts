import { z } from 'zod';
import { Address, AgentProtocol, HostInput, HostRole, Id } from '../../../core/model/index.js';
import { PortArg, TagList, tagsOf } from '../../args.js';
import type { ApiClient, NewHost, PublicHostView } from '../../client.js';
import { defineCommand } from '../../command.js';
import { printHost } from './view.js';

export const addHost = (api: ApiClient, host: NewHost): Promise<PublicHostView> => api.hosts.create(host);

export const hostsAddCommand = defineCommand({
  description: 'Register a host (a game host, or a download origin with --role origin)',
  args: [{ name: 'id', description: 'host id: lower-case letters, digits, ".", "_" or "-"' }],
  options: [
    { flags: '--address <address>', description: 'host name or IP address of its agent' },
    { flags: '--port <port>', description: 'agent port (default 7420)' },
    { flags: '--role <role>', description: 'game or origin (default game)' },
    { flags: '--tag <key=value>', description: 'a tag (repeat for more)', repeatable: true },
    { flags: '--protocol <protocol>', description: 'agent protocol: v2 or legacy (default v2)' },
    { flags: '--legacy-key <key>', description: 'shared key of a legacy agent (needs --protocol legacy)' },
  ],
  // The API's own rules, checked here so a typo costs no request: each field first (so every
  // bad one is reported at once), then HostInput for the rules between fields.
  input: z
    .object({
      id: Id,
      address: z.string({ error: 'required' }).pipe(Address),
      port: PortArg.optional(),
      role: HostRole.optional(),
      tag: TagList,
      protocol: AgentProtocol.optional(),
      legacyKey: z.string().optional(),
    })
    .transform(({ tag, ...host }): z.input<typeof HostInput> => ({ ...host, tags: tagsOf(tag) }))
    .pipe(HostInput),
  labels: { tags: '--tag' },
  async handler(host, { api, out, json }) {
    const created = await addHost(await api(), host);
    if (!json) out.info(`host '${created.id}' added`);
    printHost(out, json, created);
    if (!json && 'agentSecret' in created && created.agentSecret) {
      out.info(`agent secret: ${created.agentSecret}`);
      out.warn("put it in the host's agent config (secrets.current); it is not shown again");
    }
  },
});
