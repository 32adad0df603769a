import { z } from 'zod';
import { IntArg } from '../args.js';
import { defineCommand } from '../command.js';

export const devCommand = defineCommand({
  description: 'Run the whole stack locally (DynamoDB, S3, Step Functions, API, relay, demo agents)',
  options: [
    { flags: '--port <port>', description: 'first of the ports the stack listens on (0 picks free ones)' },
    { flags: '--data <dir>', description: 'keep DynamoDB and S3 state in this folder across restarts' },
    {
      flags: '--dynamodb <engine>',
      description: "dynalite (default) or amazon (Amazon's DynamoDB Local, needs Java 17+)",
    },
    { flags: '--no-demo', description: 'start without the demo game, hosts and agents' },
    {
      flags: '--no-demo-release',
      description: 'the demo fleet without its automatic release of demo 1.1.0 (drive releases yourself)',
    },
  ],
  input: z.object({
    port: IntArg.pipe(z.number().max(65535)).optional(),
    data: z.string().min(1).optional(),
    dynamodb: z.enum(['dynalite', 'amazon']).default('dynalite'),
    demo: z.boolean().default(true),
    demoRelease: z.boolean().default(true),
  }),
  async handler(options, { flags, env, setExitCode }) {
    // Loaded on demand: the emulators are heavy, and only this command needs them.
    const { runDev } = await import('../../local/run-dev.js');
    setExitCode(await runDev({ ...options, apiKey: flags.apiKey ?? env.apiKey }));
  },
});
