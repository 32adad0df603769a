import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  type ActionName,
  CountOrPercent,
  Id,
  isTerminalJobState,
  TagKey,
  TagValue,
  type Target,
} from '../../../core/model/index.js';
import { IntArg } from '../../args.js';
import type { ActionDetailView, ActionView, ApiClient, NewAction } from '../../client.js';
import { type CommandDefinition, defineCommand } from '../../command.js';
import type { Output } from '../../output.js';

/**
 * `gsm action <verb> --target ...`: one shared implementation; each verb's file names its verb.
 * The data functions (startAction, waitForAction) are apart from the printing.
 */

/** `h1,h2` (host ids) or `group=demo,region=eu` (tags, all must match). */
export const TargetArg = z
  .string({ error: 'required: host ids (h1,h2) or tags (key=value[,key=value])' })
  .trim()
  .min(1, 'name host ids (h1,h2) or tags (key=value[,key=value])')
  .transform((spec, ctx): z.input<typeof Target> => {
    const parts = spec
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const tagged = parts.filter((p) => p.includes('='));
    if (tagged.length === 0) return { hosts: parts };
    if (tagged.length !== parts.length) {
      ctx.addIssue({ code: 'custom', message: 'give host ids or key=value tags, not both' });
      return z.NEVER;
    }
    return {
      tags: Object.fromEntries(tagged.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])),
    };
  })
  .pipe(
    z.union([
      z.object({ hosts: z.array(Id).min(1) }),
      z.object({ tags: z.record(TagKey, TagValue).refine((t) => Object.keys(t).length > 0) }),
    ]),
  );

const actionInput = z.object({
  target: TargetArg,
  maxConcurrency: CountOrPercent.optional(),
  maxErrors: CountOrPercent.optional(),
  jobTimeout: IntArg.pipe(z.number().min(1).max(86_400)).optional(),
  wait: z.boolean().default(false),
});
type ActionInput = z.output<typeof actionInput>;

export const startAction = (api: ApiClient, action: NewAction): Promise<ActionView> =>
  // One key per invocation: if the request is retried on the way, the API starts it once.
  api.actions.start(action, randomUUID());

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls the action until it ends, telling `onJobs` about every poll's jobs. */
export const waitForAction = async (
  api: ApiClient,
  id: string,
  onJobs: (detail: ActionDetailView) => void,
  { intervalMs = 500 }: { intervalMs?: number } = {},
): Promise<ActionDetailView> => {
  for (;;) {
    const detail = await api.actions.get(id);
    onJobs(detail);
    if (TERMINAL.has(detail.state)) return detail;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};

const reasonOf = (job: ActionDetailView['jobs'][number]): string | undefined =>
  job.error ? `${job.error.code}: ${job.error.message}` : undefined;

/** Shows each job's state changes; returns the tracker's stop. */
const trackJobs = (out: Output, label: string) => {
  let progress: ReturnType<Output['hosts']> | undefined;
  const seen = new Map<string, string>();
  return {
    update(detail: ActionDetailView) {
      if (detail.jobs.length === 0) return;
      progress ??= out.hosts(label, detail.jobs.length);
      for (const job of detail.jobs) {
        if (seen.get(job.hostId) === job.state) continue;
        seen.set(job.hostId, job.state);
        progress.update(job.hostId, job.state, isTerminalJobState(job.state), reasonOf(job));
      }
    },
    stop: () => progress?.stop(),
  };
};

const printSummary = (out: Output, detail: ActionDetailView): void => {
  const failures = detail.jobs.filter((job) => job.state !== 'succeeded');
  const done = detail.jobs.length - failures.length;
  out.result(`action ${detail.id} ${detail.state}: ${done}/${detail.jobs.length} hosts succeeded`);
  if (detail.reason) out.result(`  ${detail.reason}`);
  for (const job of failures) out.result(`  ${job.hostId}  ${job.state}  ${reasonOf(job) ?? ''}`.trimEnd());
};

export const actionCommand = (verb: ActionName, description: string): CommandDefinition<typeof actionInput> =>
  defineCommand({
    description,
    options: [
      {
        flags: '--target <hosts|tags>',
        description: 'host ids (h1,h2) or tags that must all match (group=demo,region=eu)',
      },
      { flags: '--max-concurrency <n|n%>', description: 'hosts at once (default 50)' },
      { flags: '--max-errors <n|n%>', description: 'failures before nothing new is started (default 0)' },
      {
        flags: '--job-timeout <sec>',
        description: 'a host job with no result by then ends timed_out (default 300)',
      },
      {
        flags: '--wait',
        description: 'follow every host until the action ends; exit 0 only if all succeeded',
      },
    ],
    input: actionInput,
    async handler(input: ActionInput, { api, out, json, setExitCode }) {
      const client = await api();
      const strategy = {
        ...(input.maxConcurrency !== undefined ? { maxConcurrency: input.maxConcurrency } : {}),
        ...(input.maxErrors !== undefined ? { maxErrors: input.maxErrors } : {}),
        ...(input.jobTimeout !== undefined ? { jobTimeoutSec: input.jobTimeout } : {}),
      };
      const accepted = await startAction(client, { action: verb, target: input.target, strategy });
      if (!input.wait) {
        if (json) out.json(accepted);
        else out.result(accepted.id);
        if (!json)
          out.info(`follow it with: gsm action ${verb} ... --wait, or GET /v1/actions/${accepted.id}`);
        return;
      }
      if (!json) out.info(`action ${accepted.id}: ${verb} on ${formatTarget(input.target)}`);
      const tracker = trackJobs(out, `${verb}`);
      let detail: ActionDetailView;
      try {
        detail = await waitForAction(client, accepted.id, (d) => {
          if (!json) tracker.update(d);
        });
      } finally {
        tracker.stop();
      }
      const allSucceeded =
        detail.state === 'succeeded' && detail.jobs.every((job) => job.state === 'succeeded');
      if (!allSucceeded) setExitCode(1);
      if (json) out.json(detail);
      else printSummary(out, detail);
    },
  });

const formatTarget = (target: z.output<typeof TargetArg>): string =>
  'hosts' in target
    ? target.hosts.join(',')
    : Object.entries(target.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
