import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ReleaseDetailView } from '../../client.js';
import { createOutput } from '../../output.js';
import { liveLines, plainTracker, printRelease } from './view.js';

const NOW = '2026-01-01T00:00:00.000Z';

type Job = ReleaseDetailView['jobs'][number];

const job = (hostId: string, state: Job['state'], extra: Partial<Job> = {}): Job => ({
  id: `rel-1.${hostId}.deploy`,
  parentId: 'rel-1',
  hostId,
  action: 'deploy',
  state,
  updatedAt: NOW,
  ...extra,
});

const detail = (over: Partial<ReleaseDetailView> = {}): ReleaseDetailView =>
  ({
    id: 'rel-1',
    game: 'demo',
    version: '1.1.0',
    packageId: 'demo@1.1.0',
    target: { tags: { group: 'demo' } },
    strategy: {},
    state: 'running',
    counters: {},
    hostIds: ['h1', 'h2', 'h3'],
    waves: [
      { index: 0, kind: 'canary', gate: false, hostIds: ['h1'], progress: { total: 1, succeeded: 1 } },
      {
        index: 1,
        kind: 'batch',
        gate: false,
        hostIds: ['h2', 'h3'],
        progress: { total: 2, running: 1, queued: 1 },
      },
    ],
    jobs: [
      job('h1', 'succeeded'),
      job('h2', 'running', { progress: { phase: 'download', bytes: 50, total: 100 } }),
      job('h3', 'queued'),
    ],
    progress: { total: 3, succeeded: 1, running: 1, queued: 1 },
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
  }) as ReleaseDetailView;

describe('the release live view', () => {
  it('shows each wave with a bar and state, each host with a bar and its phase, and the counters', () => {
    const lines = liveLines(detail());

    expect(lines[0]).toBe('release rel-1  demo@1.1.0 to group=demo  running');
    expect(lines[1]).toBe('  1 succeeded, 0 failed, 1 running, 1 waiting of 3 hosts');
    expect(lines[2]).toBe('  wave 0 canary [############] 1/1  done');
    expect(lines[3]).toBe('    h1           [############] succeeded');
    expect(lines[4]).toBe('  wave 1 batch [............] 0/2  running');
    // Half the download of the first of six phases: 1/12 of the bar.
    expect(lines[5]).toBe('    h2           [#...........] running download');
    expect(lines[6]).toBe('    h3           [............] queued');
  });

  it('shows why a later rollback of an ended release failed', () => {
    const lines = liveLines(
      detail({
        state: 'succeeded',
        reason: '1 host(s) failed, within maxErrors 1',
        rollbackFailure: 'the rollback failed: Error: the store answered 500',
      }),
    );

    expect(lines.slice(-2)).toEqual([
      '  1 host(s) failed, within maxErrors 1',
      '  the rollback failed: Error: the store answered 500',
    ]);
  });

  it('gsm release show names why a later rollback failed', () => {
    const stdout = new PassThrough();
    let printed = '';
    stdout.on('data', (c: Buffer) => {
      printed += c.toString();
    });
    const out = createOutput({ stdout, stderr: new PassThrough() });

    printRelease(
      out,
      false,
      detail({ state: 'succeeded', rollbackFailure: 'the rollback failed: Error: the store answered 500' }),
    );

    expect(printed).toMatch(/^rollback +the rollback failed: Error: the store answered 500$/m);
  });

  it('redraws in place on a terminal: up over the last drawing, each line cleared', () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let written = '';
    stderr.on('data', (c: Buffer) => {
      written += c.toString();
    });
    const live = createOutput({ stdout: new PassThrough(), stderr }).live();

    live?.draw(['a', 'b']);
    live?.draw(['c']);
    live?.stop();

    expect(live).toBeDefined();
    expect(written).toBe('\u001b[2Ka\n\u001b[2Kb\n\u001b[2A\r\u001b[2Kc\n\u001b[J');
  });

  it('cuts a view taller than the terminal to fit, saying how much is left out', () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 4 });
    let written = '';
    stderr.on('data', (c: Buffer) => {
      written += c.toString();
    });

    createOutput({ stdout: new PassThrough(), stderr }).live()?.draw(['1', '2', '3', '4', '5', '6']);

    expect(written).toBe('\u001b[2K1\n\u001b[2K2\n\u001b[2K… 4 more lines\n');
  });

  it('is absent when stderr is not a terminal, and the plain tracker prints each change once', () => {
    const out = createOutput({ stdout: new PassThrough(), stderr: new PassThrough() });
    const printed: string[] = [];
    const track = plainTracker((line) => printed.push(line));

    track(detail());
    track(detail());
    track(
      detail({
        state: 'succeeded',
        waves: detail().waves.map((w) => ({
          ...w,
          progress: { total: w.hostIds.length, succeeded: w.hostIds.length },
        })),
        jobs: [job('h1', 'succeeded'), job('h2', 'succeeded'), job('h3', 'succeeded')],
        progress: { total: 3, succeeded: 3 },
      }),
    );

    expect(out.live()).toBeUndefined();
    expect(printed).toEqual([
      'release rel-1  demo@1.1.0 to group=demo  running',
      '  wave 0 canary (1 hosts) done',
      '  wave 1 batch (2 hosts) running',
      '    h1  succeeded',
      '    h2  running download',
      '  wave 1 batch (2 hosts) done',
      '    h2  succeeded',
      '    h3  succeeded',
      'release rel-1  demo@1.1.0 to group=demo  succeeded',
    ]);
  });
});
