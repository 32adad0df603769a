import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineCommand } from '../../command.js';
import { TargetArg } from '../action/run.js';
import { PackageRefArg, STRATEGY_FLAGS, StrategyOptions, strategyOf } from './args.js';
import { targetText } from './view.js';
import { watchRelease } from './watch.js';

export const releaseCreateCommand = defineCommand({
  description: 'Release a staged package to hosts in waves: canary, batches, approval gates, rollback',
  options: [
    { flags: '--package <game@version>', description: 'the staged package to ship, e.g. demo@1.1.0' },
    {
      flags: '--target <hosts|tags>',
      description: 'host ids in order (h1,h2) or tags that must all match (group=eu)',
    },
    ...STRATEGY_FLAGS,
    {
      flags: '--wait',
      description: 'show the release live until it ends; exit 0 only if it succeeded',
    },
  ],
  input: StrategyOptions.extend({
    package: PackageRefArg,
    target: TargetArg,
    wait: z.boolean().default(false),
  }),
  async handler(input, ctx) {
    const { api, out, json } = ctx;
    const client = await api();
    // One key per invocation: a request retried on the way starts one release, not two.
    const release = await client.releases.create(
      { package: input.package, target: input.target, strategy: strategyOf(input) },
      randomUUID(),
    );
    if (!input.wait) {
      if (json) out.json(release);
      else {
        out.result(release.id);
        out.info(`follow it with: gsm release show ${release.id} --watch`);
      }
      return;
    }
    if (!json) {
      out.info(`release ${release.id}: ${release.game}@${release.version} to ${targetText(release.target)}`);
    }
    await watchRelease(client, release.id, ctx);
  },
});
