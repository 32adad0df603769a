import { z } from 'zod';
import { Role } from '../../../core/model/index.js';
import type { ApiClient } from '../../client.js';
import { defineCommand } from '../../command.js';

export const createKey = (api: ApiClient, name: string, role: Role) => api.keys.create({ name, role });

export const keysCreateCommand = defineCommand({
  description: 'Create an API key; it is shown this once',
  args: [{ name: 'name', description: 'what the key is for (a person, a CI job)' }],
  options: [{ flags: '--role <role>', description: 'viewer (read), operator (change), or admin (keys too)' }],
  input: z.object({
    name: z.string().min(1).max(100),
    role: z.string({ error: 'required: viewer, operator or admin' }).pipe(Role),
  }),
  async handler({ name, role }, { api, out, json }) {
    const created = await createKey(await api(), name, role);
    out.warn('this is the only time the key is shown; store it now (it is kept hashed)');
    if (json) {
      out.json(created);
      return;
    }
    out.info(`created ${created.role} key '${created.name}' (id ${created.id})`);
    // The key alone on stdout, so `KEY=$(gsm keys create ci --role operator)` captures it.
    out.result(created.key);
  },
});
