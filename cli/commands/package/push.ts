import { z } from 'zod';
import { Id, Version } from '../../../core/model/index.js';
import { IntArg } from '../../args.js';
import { defineCommand } from '../../command.js';
import { pushPackage } from '../../push.js';
import { printPackage } from './view.js';

export const packagePushCommand = defineCommand({
  description: 'Upload a build (resumable), then wait until intake has verified its SHA-256',
  args: [{ name: 'file', description: 'the package file, e.g. server-1.2.0.tar.gz' }],
  options: [
    { flags: '--game <game>', description: 'the game it is a build of' },
    { flags: '--version <version>', description: 'the version it is' },
    { flags: '--no-wait', description: 'return once uploaded, without waiting for verification' },
    { flags: '--concurrency <n>', description: 'parts in flight at once (default 4)' },
  ],
  input: z.object({
    file: z.string().min(1),
    game: z.string({ error: 'required' }).pipe(Id),
    version: z.string({ error: 'required' }).pipe(Version),
    wait: z.boolean().default(true),
    concurrency: IntArg.pipe(z.number().int().min(1).max(32)).default(4),
  }),
  async handler(input, { api, out, json, env }) {
    const result = await pushPackage(
      await api(),
      { ...input, abortAfterParts: env.abortAfterParts },
      { progress: (label, total) => out.progress(label, total), info: (text) => out.info(text) },
    );
    const resumed = result.partsResumed > 0 ? ` (${result.partsResumed} resumed)` : '';
    out.info(`sent ${result.partsSent} parts${resumed}; sha256 ${result.sha256}`);
    printPackage(out, json, result.package);
  },
});
