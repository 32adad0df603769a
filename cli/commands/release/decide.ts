import { z } from 'zod';
import { type CommandDefinition, defineCommand } from '../../command.js';

const decisionInput = z.object({
  id: z.string().trim().min(1),
  reason: z.string().max(500, 'a reason is at most 500 characters').optional(),
});

type Verb = 'approve' | 'reject' | 'cancel' | 'rollback';

const DONE: Record<Verb, string> = {
  approve: 'approved: the next wave goes on',
  reject: 'rejected: it stops and rolls back the hosts it changed',
  cancel: 'cancelled: nothing more is dispatched; hosts in flight finish, then the changed ones roll back',
  rollback: 'rolling back: the hosts it changed go back to their previous version',
};

/** `gsm release approve | reject | cancel | rollback ID [--reason TEXT]`: one shared implementation. */
export const decisionCommand = (verb: Verb, description: string): CommandDefinition<typeof decisionInput> =>
  defineCommand({
    description,
    args: [{ name: 'id', description: 'release id' }],
    options: [{ flags: '--reason <text>', description: 'why, kept on the release' }],
    input: decisionInput,
    async handler({ id, reason }, { api, out, json }) {
      const client = await api();
      const body = reason === undefined ? {} : { reason };
      const release = await client.releases[verb](id, body);
      if (json) out.json(release);
      else out.result(`release ${release.id} ${DONE[verb]} (now ${release.state})`);
    },
  });
