import { z } from 'zod';
import { isGsmError } from '../../core/errors.js';
import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

export const agentCommand = defineCommand({
  description: 'Run the host agent (game host or download origin) until SIGTERM',
  options: [{ flags: '--config <file>', description: 'agent config file (JSON); see agent/README.md' }],
  input: z.object({ config: z.string().min(1, 'give the agent config file with --config FILE') }),
  async handler({ config }, { setExitCode }) {
    // Loaded on demand: only hosts run the agent, and it pulls in the installer and supervisor.
    const { runAgent } = await import('../../agent/main.js');
    try {
      setExitCode(await runAgent(config));
    } catch (error) {
      // A bad config is the operator's to fix: one line, exit 1, no stack.
      if (isGsmError(error) && error.code === 'E_CONFIG')
        throw new UserError(error.message, { cause: error });
      throw error;
    }
  },
});
