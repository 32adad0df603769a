import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GsmError } from '../../core/errors.js';
import { type Action, isTerminalActionState, type Target } from '../../core/model/index.js';
import type { Store } from '../../core/store/types.js';
import { runAgentJob } from './agent-job.js';

export interface ActionWorkflow {
  readonly sfn: SFNClient;
  /** The `gsm-action` state machine. */
  readonly stateMachineArn: string;
}

export interface PackageRef {
  readonly version: string;
  readonly url: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * Runs an action the way `POST /v1/actions` does (an action record, then StartExecution named
 * by its id) and waits for its end: the demo fleet's installs go through the real workflow,
 * relay and origin, and show up in `gsm action list` like any other.
 */
export const runWorkflowAction = async (
  store: Store,
  workflow: ActionWorkflow,
  request: { action: string; target: Target; params?: Record<string, unknown> },
  timeoutMs = 180_000,
): Promise<Action> => {
  const action = await store.actions.create({
    ...request,
    // Every host is tried: one broken demo host must not leave the rest uninstalled.
    strategy: { maxConcurrency: 50, maxErrors: '100%', jobTimeoutSec: 120 },
    createdBy: 'gsm-dev',
  });
  await workflow.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: workflow.stateMachineArn,
      name: action.id,
      input: JSON.stringify({ actionId: action.id }),
    }),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await store.actions.get(action.id);
    if (isTerminalActionState(current.state)) return current;
    if (Date.now() > deadline)
      throw new GsmError('E_TIMEOUT', `demo ${request.action} ${action.id} still ${current.state}`);
    await new Promise((done) => setTimeout(done, 250));
  }
};

export interface InstallTarget {
  readonly id: string;
  readonly port: number;
  /** The build pre-staged beside `base`, so a release of it has nothing left to download. */
  readonly next: PackageRef;
}

export interface InstallReport {
  /** Hosts whose demo instance has `base` current and serving (started, its game answering). */
  readonly ready: readonly string[];
  readonly failed: readonly { id: string; reason: string }[];
  readonly actions: readonly string[];
}

const installParams = (pkg: PackageRef) => ({
  urls: [pkg.url],
  sha256: pkg.sha256,
  size: pkg.size,
  version: pkg.version,
  game: 'demo',
});

/**
 * Pre-stages `base` and each host's next build through the action workflow, makes `base`
 * current (the action API has `install` but no `switch`: that is a release's job), then starts
 * it through the action workflow: a fleet is serving when a release comes, so the release
 * drains, stops and restarts live servers. (`gsm action start` on a running server succeeds.)
 */
export const preinstallFleet = async (options: {
  readonly store: Store;
  readonly workflow: ActionWorkflow;
  readonly masterSecret: string;
  readonly base: PackageRef;
  readonly hosts: readonly InstallTarget[];
}): Promise<InstallReport> => {
  const { store, workflow, hosts } = options;
  const ids = hosts.map((h) => h.id);
  const first = await runWorkflowAction(store, workflow, {
    action: 'install',
    target: { hosts: ids },
    params: installParams(options.base),
  });
  // One action per distinct next build; disjoint hosts, so they run side by side without
  // meeting an instance lock.
  const byBuild = new Map<string, { pkg: PackageRef; ids: string[] }>();
  for (const host of hosts) {
    const entry = byBuild.get(host.next.sha256) ?? { pkg: host.next, ids: [] };
    entry.ids.push(host.id);
    byBuild.set(host.next.sha256, entry);
  }
  const next = await Promise.all(
    [...byBuild.values()].map(({ pkg, ids: targets }) =>
      runWorkflowAction(store, workflow, {
        action: 'install',
        target: { hosts: targets },
        params: installParams(pkg),
      }),
    ),
  );
  const installed = new Set(
    (await store.jobs.listByParent(first.id, { limit: 500 })).items
      .filter((job) => job.state === 'succeeded')
      .map((job) => job.hostId),
  );
  const failed: { id: string; reason: string }[] = [];
  const ready: string[] = [];
  await Promise.all(
    hosts.map(async (host) => {
      if (!installed.has(host.id)) {
        failed.push({ id: host.id, reason: `install ${options.base.version} failed (${first.id})` });
        return;
      }
      try {
        await runAgentJob({
          port: host.port,
          hostId: host.id,
          masterSecret: options.masterSecret,
          action: 'switch',
          params: { version: options.base.version, start: false },
        });
        ready.push(host.id);
      } catch (error) {
        failed.push({ id: host.id, reason: (error as Error).message });
      }
    }),
  );
  if (ready.length === 0) return { ready, failed, actions: [first.id, ...next.map((a) => a.id)] };
  const start = await runWorkflowAction(store, workflow, { action: 'start', target: { hosts: ready } });
  const jobs = (await store.jobs.listByParent(start.id, { limit: 500 })).items;
  const serving = new Set(jobs.filter((job) => job.state === 'succeeded').map((job) => job.hostId));
  for (const id of ready.filter((hostId) => !serving.has(hostId))) {
    const job = jobs.find((j) => j.hostId === id);
    failed.push({
      id,
      reason: `start ${options.base.version} failed (${start.id}): ${job?.error?.message ?? job?.state ?? 'no job'}`,
    });
  }
  return {
    ready: ready.filter((id) => serving.has(id)).sort(),
    failed,
    actions: [first.id, ...next.map((a) => a.id), start.id],
  };
};
