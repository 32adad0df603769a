import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiClient, type ReleaseDetailView } from '../../cli/client.js';
import { followRelease } from '../../cli/commands/release/follow.js';
import {
  countersText,
  hostRows,
  hostState,
  plainTracker,
  reasonOf,
} from '../../cli/commands/release/view.js';
import { pushPackage } from '../../cli/push.js';
import { GsmError } from '../../core/errors.js';
import type { Package } from '../../core/model/index.js';
import { buildDemoPackages } from '../demo-game/build.js';
import { DEMO_NEXT_VERSION } from './fleet.js';

/**
 * The `npm start` demo's release: demo 1.1.0 is built, pushed through the real upload, intake
 * and staging path (what `gsm package push` does), then released to `group=demo` with canary 1,
 * batch 25%, maxErrors 1 and no approval, through the API, the release workflow, the relay and
 * the demo agents. The `fault=health` hosts fail their health check and go back to 1.0.0; the
 * release succeeds within its error budget of one.
 */

export const DEMO_RELEASE_STRATEGY = {
  canary: 1,
  batch: '25%',
  maxErrors: 1,
  approval: 'none',
  // The demo has no players to wait for, and a faulty host should not hold the demo a minute.
  drain: { timeoutSec: 10 },
  healthTimeoutSec: 15,
} as const;

/** The demo release as a command, for people who run it themselves (`gsm dev --no-demo-release`). */
export const DEMO_RELEASE_COMMAND = `gsm release create --package demo@${DEMO_NEXT_VERSION} --target group=demo --canary 1 --batch 25% --max-errors 1 --wait`;

export interface DemoReleaseOptions {
  readonly api: string;
  readonly apiKey: string;
  /** Where the build is written before it is pushed. */
  readonly workDir: string;
  /** Progress, one line at a time. */
  readonly print: (line: string) => void;
  readonly signal?: AbortSignal;
  readonly intervalMs?: number;
}

const demoClient = (options: Pick<DemoReleaseOptions, 'api' | 'apiKey'>) =>
  createApiClient({
    endpoint: options.api,
    apiKey: options.apiKey,
    sources: { endpoint: 'gsm dev', apiKey: 'gsm dev' },
  });

/**
 * Builds demo 1.1.0 and pushes it through the real upload, intake and staging path, then waits
 * until it is staged: ready for a release, by `gsm dev` or by hand (`--no-demo-release`).
 */
export const stageDemoNext = async (options: DemoReleaseOptions): Promise<Package> => {
  const { print, signal } = options;
  const client = demoClient(options);
  const [built] = await buildDemoPackages(join(options.workDir, 'demo-release'), {
    versions: [DEMO_NEXT_VERSION],
    faultyVersions: [],
    formats: ['tar.gz'],
  });
  if (!built) throw new GsmError('E_INTERNAL', 'the demo build made no package');
  // Pushed before (`--data`)? pushPackage checks it is this very build and goes on.
  const pushed = await pushPackage(
    client,
    {
      file: built.file,
      game: 'demo',
      version: DEMO_NEXT_VERSION,
      concurrency: 4,
      wait: true,
      waitTimeoutMs: 120_000,
    },
    { progress: () => ({ advance: () => {}, stop: () => {} }), info: () => {} },
  );
  print(`demo release: pushed demo@${DEMO_NEXT_VERSION} (sha256 ${pushed.sha256.slice(0, 12)}…), staging it`);
  const deadline = Date.now() + 120_000;
  let pkg = pushed.package;
  for (; pkg.state !== 'staged'; pkg = await client.packages.get(pkg.id)) {
    signal?.throwIfAborted();
    if (pkg.state === 'rejected' || Date.now() > deadline) {
      throw new GsmError(
        'E_DEMO',
        `demo@${DEMO_NEXT_VERSION} is ${pkg.state}${pkg.reason ? `: ${pkg.reason}` : ''}`,
      );
    }
    await sleep(300);
  }
  return pkg;
};

export const runDemoRelease = async (options: DemoReleaseOptions): Promise<ReleaseDetailView> => {
  const { print, signal } = options;
  await stageDemoNext(options);
  const client = demoClient(options);
  const release = await client.releases.create(
    {
      package: { game: 'demo', version: DEMO_NEXT_VERSION },
      target: { tags: { group: 'demo' } },
      strategy: { ...DEMO_RELEASE_STRATEGY },
    },
    randomUUID(),
  );
  print(
    `demo release: ${release.id} ships demo@${DEMO_NEXT_VERSION} to group=demo (canary 1, batch 25%, maxErrors 1)`,
  );
  const track = plainTracker((line) => print(`demo release: ${line.trimStart()}`));
  return followRelease(client, release.id, track, { intervalMs: options.intervalMs ?? 1000, signal });
};

/** The lines `gsm dev` prints when the demo release has ended. */
export const demoReleaseSummary = (detail: ReleaseDetailView): string[] => [
  `demo release: ${detail.id} ${detail.state}: ${countersText(detail)}`,
  ...(detail.reason ? [`  ${detail.reason}`] : []),
  ...hostRows(detail)
    .filter((row) => row.deploy && !['succeeded', 'cancelled'].includes(row.deploy.state))
    .map(
      // A host that failed switched itself back; a rollback job is named only when there was one.
      (row) => {
        const back = row.rollback ? `; ${hostState(row)}` : '';
        return `  ${row.hostId}  ${row.deploy?.state}  ${reasonOf(row.deploy) ?? ''}${back}`;
      },
    ),
];
