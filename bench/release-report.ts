// The release bench's report: one line per release on stderr, the table, and its RESULTS.md section.
import { appendFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ReleaseMeasure } from './release-measure.js';
import { fmt } from './stats.js';

export const describeRelease = (m: ReleaseMeasure) =>
  `${m.hosts} hosts, ${m.sizeMb} MiB: ${m.state}, ${m.succeeded} succeeded; wall ${fmt(m.wallMs)}, Σ slowest per wave ${fmt(m.sumSlowestMs)} → ${m.ratio.toFixed(2)}×; ` +
  `waves ${m.waves.map((w) => `${w.size}: slowest ${fmt(w.slowestMs)}, span ${fmt(w.spanMs)}, gap before ${fmt(w.gapBeforeMs)}`).join('; ')}; ` +
  `${m.events} history events, ${m.transitions} transitions; (${Object.entries(m.eventTypes)
    .map(([type, n]) => `${type} ${n}`)
    .join(
      ', ',
    )}); GET release p99 ${m.releaseP99.toFixed(1)} ms (${m.releasePolls}), hosts p99 ${m.hostsP99.toFixed(1)} ms (${m.hostsPolls})`;

export const releaseTable = (
  full: ReleaseMeasure,
  small: ReleaseMeasure,
  idle: { readonly release: number; readonly hosts: number },
) =>
  [
    `| metric | ${full.hosts} hosts, ${full.sizeMb} MiB | ${small.hosts} hosts, ${small.sizeMb} MiB | goal |`,
    '|---|---|---|---|',
    `| release state (deploys succeeded) | ${full.state} (${full.succeeded}) | ${small.state} (${small.succeeded}) | succeeded |`,
    `| wall, execution start → stop | ${fmt(full.wallMs)} | ${fmt(small.wallMs)} | — |`,
    `| Σ over waves of the wave's slowest host | ${fmt(full.sumSlowestMs)} (${full.waves.length} waves) | ${fmt(small.sumSlowestMs)} (${small.waves.length} waves) | — |`,
    `| wall / Σ slowest | ${full.ratio.toFixed(2)}× | ${small.ratio.toFixed(2)}× | ≤ 1.3× |`,
    `| history events (per host) | ${full.events} (${(full.events / full.hosts).toFixed(2)}) | ${small.events} (${(small.events / small.hosts).toFixed(2)}) | O(1) per host |`,
    `| state transitions (per host) | ${full.transitions} (${(full.transitions / full.hosts).toFixed(2)}) | ${small.transitions} (${(small.transitions / small.hosts).toFixed(2)}) | O(1) per host |`,
    `| GET /v1/releases/:id p99 (polls) | ${full.releaseP99.toFixed(1)} ms (${full.releasePolls}) | ${small.releaseP99.toFixed(1)} ms (${small.releasePolls}) | ≤ 50 ms |`,
    `| GET /v1/hosts?limit=50 p99 (polls) | ${full.hostsP99.toFixed(1)} ms (${full.hostsPolls}) | ${small.hostsP99.toFixed(1)} ms (${small.hostsPolls}) | ≤ 50 ms |`,
    `| the same two GETs, p99 with no release running (the ${full.hosts}-job release ended) | ${idle.release.toFixed(1)} ms, ${idle.hosts.toFixed(1)} ms | | — |`,
  ].join('\n');

export const recordRelease = async (
  table: string,
  full: ReleaseMeasure,
  load: number[],
  settings: Readonly<Record<string, number>>,
) => {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const waves = full.waves
    .map(
      (w, i) =>
        `wave ${i + 1} (${w.size}): slowest ${fmt(w.slowestMs)}, span ${fmt(w.spanMs)}, gap before ${fmt(w.gapBeforeMs)}`,
    )
    .join('; ');
  await appendFile(
    join(import.meta.dirname, 'RESULTS.md'),
    `\n## release\n\nCommand: \`${Object.entries(settings)
      .filter(([, value]) => value !== 0)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ')} BENCH_RECORD=1 node --import tsx bench/release.bench.ts\`\n` +
      `Date: ${new Date().toISOString()}. Machine: ${cpus().length} vCPU ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; load average at the start ${load.map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min), at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (other sessions share the machine).\n` +
      `Waves of the ${full.hosts}-host release: ${waves}.\n\n${table}\n`,
  );
};
