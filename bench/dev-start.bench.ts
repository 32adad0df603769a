// Start-to-ready of `gsm dev` (what `npm start` runs): from spawn until .gsm/dev.json exists and the
// API answers /v1/health. Baseline, interleaved in the same run: a bare Node HTTP server's
// spawn-to-first-answer, i.e. what any Node service pays before its own work. Goal: ≤ 5 s.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, median } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ENGINES = (process.env.BENCH_DYNAMODB ?? 'dynalite,amazon').split(',');

const until = async <T>(probe: () => Promise<T | undefined>, child: ChildProcess): Promise<T> => {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('not ready within 60 s');
};

const stop = (child: ChildProcess) =>
  new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });

const gsmDev = async (engine: string): Promise<number> => {
  const cwd = await mkdtemp(join(tmpdir(), 'gsm-bench-dev-'));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/gsm.js'), 'dev', '--port', '0', '--dynamodb', engine],
    {
      cwd,
      stdio: 'ignore',
    },
  );
  await until(async () => {
    const { api } = JSON.parse(await readFile(join(cwd, '.gsm', 'dev.json'), 'utf8')) as { api: string };
    return (await fetch(`${api}/v1/health`)).ok ? true : undefined;
  }, child);
  const elapsed = performance.now() - started;
  await stop(child);
  await rm(cwd, { recursive: true, force: true });
  return elapsed;
};

const bareNode = async (): Promise<number> => {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '-e',
      "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',function(){console.log(this.address().port)})",
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const port = await new Promise<number>((done) =>
    child.stdout?.once('data', (d) => done(Number(String(d).trim()))),
  );
  await until(async () => ((await fetch(`http://127.0.0.1:${port}/`)).ok ? true : undefined), child);
  const elapsed = performance.now() - started;
  await stop(child);
  return elapsed;
};

const results: Record<string, number[]> = { baseline: [] };
for (const engine of ENGINES) results[engine] = [];
for (let run = 0; run < RUNS; run++) {
  results.baseline!.push(await bareNode());
  for (const engine of ENGINES) results[engine]!.push(await gsmDev(engine));
}

const base = median(results.baseline!);
console.log(`gsm dev start-to-ready, median of ${RUNS} interleaved runs (node ${process.version})`);
console.log(`  baseline (bare Node HTTP server): ${fmt(base)}`);
for (const engine of ENGINES) {
  const m = median(results[engine]!);
  console.log(
    `  gsm dev --dynamodb ${engine}: ${fmt(m)}  (${(m / base).toFixed(1)}× baseline; goal ≤ 5 s: ${m <= 5000 ? 'met' : 'MISSED'})`,
  );
}
