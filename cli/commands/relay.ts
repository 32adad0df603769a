import { z } from 'zod';
import { defineCommand } from '../command.js';
import { UserError } from '../errors.js';

export const relayCommand = defineCommand({
  description: 'Run the relay (Step Functions activity worker that drives the agents) until SIGTERM',
  options: [],
  input: z.object({}),
  async handler(_options, { setExitCode }) {
    // Loaded on demand: only the relay service needs the fan-out and the SFN client.
    const [{ runRelay }, { isGsmError }] = await Promise.all([
      import('../../relay/main.js'),
      import('../../core/errors.js'),
    ]);
    try {
      setExitCode(await runRelay());
    } catch (error) {
      if (isGsmError(error) && error.code === 'E_CONFIG')
        throw new UserError(error.message, { cause: error });
      throw error;
    }
  },
});
