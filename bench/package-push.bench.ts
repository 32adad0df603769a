// `gsm package push` against the local stack vs a bare `curl --aws-sigv4 -T FILE` PUT of the same
// file to the same local S3 (no hash), and intake verification vs `openssl dgst -sha256`. Usage:
//   node --import tsx bench/package-push.bench.ts                 (1 GiB, 3 interleaved runs)
//   BENCH_SIZE_MB=2048 BENCH_RUNS=3 node --import tsx bench/package-push.bench.ts
//   BENCH_APPEND=1 appends the table to bench/RESULTS.md.
// The random file is cached in BENCH_DIR (default /tmp/gsm-bench-push-<size>). The CLI is the built
// `bin/gsm.js`, as users run it (built first when dist/ is missing or stale).
import { spawn } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../core/aws.js';
import { startDevStack } from '../local/dev.js';
import { builtCli, ensureRandomFile } from './files.js';
import { fmt, median } from './stats.js';

const _MiB = 1024 * 1024;
const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 1024);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const dir = process.env.BENCH_DIR ?? `/tmp/gsm-bench-push-${sizeMb}`;
const root = join(import.meta.dirname, '..');
const file = join(dir, `bench-${sizeMb}.tar.gz`);

const ensureFile = () => ensureRandomFile(file, sizeMb);

/** Loaded with `--import` into the CLI: its peak RSS on stderr at exit (plain JS: the built CLI runs without tsx). */
const REPORT_RSS = `data:text/javascript,${encodeURIComponent(
  "import{writeSync}from'node:fs';process.on('exit',()=>writeSync(2,'GSM_BENCH_MAXRSS_KB='+process.resourceUsage().maxRSS+'\\n'));",
)}`;

/** Runs a command; resolves with its wall time and, for node children, the peak RSS they report. */
const timed = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<{ ms: number; rssKb?: number; stderr: string }>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`));
      const rss = /GSM_BENCH_MAXRSS_KB=(\d+)/.exec(stderr)?.[1];
      resolve({ ms, rssKb: rss ? Number(rss) : undefined, stderr });
    });
  });

const main = async () => {
  ensureFile();
  // The task and trigger modules log at info by default; the bench prints only its table.
  process.env.GSM_LOG_LEVEL ??= 'warn';
  // No demo fleet: its origin would stage every push, and the bench measures upload and verification.
  const stack = await startDevStack({ port: 0, cwd: dir, logLevel: 'silent', demo: false });
  await stack.store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 28960 });
  const { endpoints } = stack;
  const s3 = createS3Client({
    region: endpoints.region,
    endpoints: { s3: endpoints.s3 },
    credentials: endpoints.credentials,
    s3ForcePathStyle: true,
  });
  const cliEnv = {
    ...process.env,
    GSM_ENDPOINT: endpoints.api,
    GSM_API_KEY: endpoints.apiKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // BENCH_PROFILE=dir: a CPU profile of each CLI run.
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const cli = [...profile, '--import', REPORT_RSS, builtCli(root)];
  const push: number[] = [];
  const rss: number[] = [];
  const curl: number[] = [];
  const verify: number[] = [];
  const openssl: number[] = [];
  const startup: number[] = [];

  for (let i = 0; i < runs; i++) {
    const version = `bench.${Date.now()}.${i}`;
    startup.push((await timed(process.execPath, [...cli, '--help'], cliEnv)).ms);
    const pushed = await timed(
      process.execPath,
      [...cli, 'package', 'push', file, '--game', 'demo', '--version', version, '--no-wait'],
      cliEnv,
    );
    push.push(pushed.ms);
    if (pushed.rssKb) rss.push(pushed.rssKb);
    // Intake runs from the completion event; time until the package is verified.
    const id = `demo@${version}`;
    const since = performance.now();
    for (;;) {
      const pkg = await stack.store.packages.get(id);
      if (['verified', 'staging', 'staged'].includes(pkg.state)) break;
      if (pkg.state === 'rejected') throw new Error(`bench package rejected: ${pkg.reason}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    verify.push(performance.now() - since);

    const key = `bench/curl-${i}.bin`;
    curl.push(
      (
        await timed('curl', [
          '-sS',
          '-f',
          '--aws-sigv4',
          `aws:amz:${endpoints.region}:s3`,
          '--user',
          `${endpoints.credentials.accessKeyId}:${endpoints.credentials.secretAccessKey}`,
          // curl 7.88 signs without it; S3 requires it (s3rver too).
          '-H',
          'x-amz-content-sha256: UNSIGNED-PAYLOAD',
          '-T',
          file,
          `${endpoints.s3}/${endpoints.bucket}/${key}`,
        ])
      ).ms,
    );
    openssl.push((await timed('openssl', ['dgst', '-sha256', file])).ms);

    const pkg = await stack.store.packages.get(id);
    await s3.send(new DeleteObjectCommand({ Bucket: endpoints.bucket, Key: pkg.s3Key }));
    await stack.store.packages.remove(id);
    await s3.send(new DeleteObjectCommand({ Bucket: endpoints.bucket, Key: key }));
  }
  s3.destroy();
  await stack.close();

  const m = {
    push: median(push),
    startup: median(startup),
    curl: median(curl),
    verify: median(verify),
    openssl: median(openssl),
    rssMb: rss.length ? Math.max(...rss) / 1024 : Number.NaN,
  };
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const lines = [
    '',
    '## package push',
    '',
    `Command: \`BENCH_SIZE_MB=${sizeMb} BENCH_RUNS=${runs} node --import tsx bench/package-push.bench.ts\``,
    `Date: ${new Date().toISOString()}. Machine: ${cpus().length} vCPU ${cpu}, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}.`,
    `File: ${sizeMb} MiB of random bytes. Local stack (dynalite, s3rver, Step Functions emulator, API) in the bench process;`,
    'the built CLI (`bin/gsm.js`, as installed) in a child process, `--no-wait`, 4 parts of 8 MiB in flight.',
    `Median of ${runs} interleaved runs. "CLI start" is \`gsm --help\` (node start-up and imports), included in "push".`,
    '',
    '| what | gsm | baseline | ratio | goal |',
    '|---|---|---|---|---|',
    `| push (read once + SHA-256 + parallel parts + complete) vs \`curl --aws-sigv4 -T FILE\` (no hash) | ${fmt(m.push)} (CLI start ${fmt(m.startup)}) | ${fmt(m.curl)} | ${ratio(m.push, m.curl)} (without start-up ${ratio(m.push - m.startup, m.curl)}) | ≤ 1.5× |`,
    `| intake verification (event → verified) vs \`openssl dgst -sha256 FILE\` | ${fmt(m.verify)} | ${fmt(m.openssl)} | ${ratio(m.verify, m.openssl)} | ≤ 1.5× |`,
    '',
    `Peak RSS of the CLI during push: ${m.rssMb.toFixed(0)} MB (goal ≤ 200 MB).`,
    `Raw (ms): push ${push.map((v) => v.toFixed(0)).join(', ')}; curl ${curl.map((v) => v.toFixed(0)).join(', ')}; verify ${verify.map((v) => v.toFixed(0)).join(', ')}; openssl ${openssl.map((v) => v.toFixed(0)).join(', ')}.`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (process.env.BENCH_APPEND === '1') appendFileSync(join(root, 'bench/RESULTS.md'), lines.join('\n'));
  if (!process.env.BENCH_DIR) rmSync(join(dir, '.gsm'), { recursive: true, force: true });
};

await main();
