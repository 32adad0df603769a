// Agent install vs `curl | tee >(sha256sum) | tar -x`, on a game-like tree served by nginx
// (or a Node server when nginx is missing). Usage:
//   node --import tsx bench/install.bench.ts            (1 GiB tree, 3 interleaved runs)
//   BENCH_SIZE_MB=128 BENCH_RUNS=3 node --import tsx bench/install.bench.ts
//   BENCH_BZIP2_FALLBACK=1 also measures the agent with plain bzip2 instead of lbzip2;
//   BENCH_BZIP2_JS=1 also measures the pure-JS decoder (the last resort of a host with neither).
// The tree and archives are cached in BENCH_DIR (default /tmp/gsm-bench-install-<size>).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

const MiB = 1024 * 1024;

interface ChildArgs {
  url: string;
  sha256: string;
  size: number;
  instanceDir: string;
  prefer?: ('lbzip2' | 'bzip2' | 'js')[];
}

/** Child mode: one install in a fresh process, so its peak RSS is the agent's alone. */
const runChild = async (args: ChildArgs): Promise<void> => {
  const { installPackage } = await import('../agent/installer/index.js');
  const started = performance.now();
  await installPackage({
    urls: [args.url],
    sha256: args.sha256,
    size: args.size,
    version: 'bench',
    instanceDir: args.instanceDir,
    bzip2: args.prefer ? { prefer: args.prefer } : undefined,
  });
  const ms = performance.now() - started;
  process.stdout.write(`${JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS })}\n`);
};

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const WORDS =
  'local function return end if then else player score map weapon team spawn health ammo config true false nil'.split(
    ' ',
  );

/** Lua/json/cfg-like lines; lognormal sizes around ~120 kB like the PERF-LIMITS tree. */
const textFile = (bytes: number, seed: number): Buffer => {
  const lines: string[] = [];
  let n = 0;
  let i = seed;
  while (n < bytes) {
    i = (i * 1103515245 + 12345) >>> 0;
    const kind = i % 4;
    const w = (k: number) => WORDS[(i >>> k) % WORDS.length];
    const line =
      kind === 0
        ? `${w(3)}_${i % 997} = ${w(5)}(${i % 1000}, "${w(7)}")`
        : kind === 1
          ? `  "${w(3)}": { "${w(5)}": ${i % 10000}, "${w(9)}": "${w(11)} ${w(13)}" },`
          : kind === 2
            ? `<${w(3)} id="${i % 4096}" ${w(5)}="${w(7)}"/>`
            : `[${(i % 86400).toString().padStart(5, '0')}] ${w(3)} ${w(5)} ${w(7)} ${w(9)} ${i % 100}`;
    lines.push(line);
    n += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
};

const makeTree = (dir: string, totalMb: number): void => {
  const paks = 7;
  const pakBytes = Math.floor((totalMb * MiB * 0.6) / paks);
  mkdirSync(join(dir, 'main'), { recursive: true });
  const block = Buffer.allocUnsafe(4 * MiB);
  for (let p = 0; p < paks; p++) {
    const parts: Buffer[] = [];
    for (let left = pakBytes; left > 0; left -= block.length) {
      parts.push(Buffer.from(randomFillSync(block).subarray(0, Math.min(left, block.length))));
    }
    writeFileSync(join(dir, 'main', `z_pak${p}.pak`), Buffer.concat(parts));
  }
  let textLeft = Math.floor(totalMb * MiB * 0.4);
  for (let f = 0; textLeft > 0; f++) {
    const gauss = Math.sqrt(-2 * Math.log(Math.random() || 1e-9)) * Math.cos(2 * Math.PI * Math.random());
    const size = Math.min(textLeft, Math.max(200, Math.round(Math.exp(10.8 + 1.0 * gauss))));
    const sub = join(dir, ['scripts', 'maps', 'configs', 'logs', 'ui'][f % 5]!, `d${f % 37}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${f}.${['lua', 'json', 'xml', 'cfg', 'log'][f % 5]}`), textFile(size, f));
    textLeft -= size;
  }
};

const sha256File = async (file: string): Promise<string> => {
  const hash = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: MiB })) hash.update(c as Buffer);
  return hash.digest('hex');
};

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** nginx on 127.0.0.1 with sendfile, one worker (as PERF-LIMITS measured); Node fallback. */
const serve = async (root: string, work: string): Promise<{ base: string; server: string; stop(): void }> => {
  const port = await freePort();
  if (has('nginx')) {
    const conf = join(work, 'nginx.conf');
    writeFileSync(
      conf,
      `${process.getuid?.() === 0 ? 'user root;\n' : ''}daemon off; worker_processes 1; pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path ${work}/t1; proxy_temp_path ${work}/t2; fastcgi_temp_path ${work}/t3; uwsgi_temp_path ${work}/t4; scgi_temp_path ${work}/t5;
  server { listen 127.0.0.1:${port}; root ${root}; } }
`,
    );
    const child = spawn('nginx', ['-p', work, '-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const ok = spawnSync('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://127.0.0.1:${port}/`,
      ]).stdout;
      if (String(ok) !== '000') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      base: `http://127.0.0.1:${port}`,
      server: 'nginx (sendfile, 1 worker)',
      stop: () => child.kill(),
    };
  }
  const server = createServer((req, res) => {
    const file = join(root, (req.url ?? '/').replace(/\.\./g, ''));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file, { highWaterMark: MiB }).pipe(res);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${port}`, server: 'node:http', stop: () => server.close() };
};

const timeShell = (script: string): number => {
  const started = performance.now();
  const r = spawnSync('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`baseline failed: ${script}`);
  return performance.now() - started;
};

const timeAgent = (args: ChildArgs): { ms: number; wallMs: number; maxRssKb: number } => {
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--child', JSON.stringify(args)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const wallMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`agent install failed (${r.status})`);
  return { ...JSON.parse(r.stdout.trim().split('\n').at(-1)!), wallMs };
};

interface Row {
  name: string;
  agentMs: number;
  agentWallMs: number;
  baselineMs: number;
  rssMb: number;
  goal: number;
}

const main = async (): Promise<void> => {
  const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 1024);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const work = process.env.BENCH_DIR ?? `/tmp/gsm-bench-install-${sizeMb}`;
  const www = join(work, 'www');
  mkdirSync(www, { recursive: true });
  const tree = join(work, 'tree');
  if (!existsSync(join(work, 'ready'))) {
    console.log(`generating a ${sizeMb} MiB tree in ${tree} ...`);
    rmSync(tree, { recursive: true, force: true });
    makeTree(tree, sizeMb);
    execFileSync('bash', ['-c', `tar -cf ${www}/tree.tar -C ${tree} .`]);
    const gz = has('pigz') ? 'pigz -6' : 'gzip -6';
    const bz = has('lbzip2') ? 'lbzip2 -9' : 'bzip2 -9';
    execFileSync('bash', [
      '-c',
      `${gz} -c ${www}/tree.tar > ${www}/tree.tar.gz && ${bz} -c ${www}/tree.tar > ${www}/tree.tar.bz2`,
    ]);
    writeFileSync(join(work, 'ready'), 'ok');
  }
  const origin = await serve(www, work);
  const loadBefore = loadavg()[0]!;
  const rows: Row[] = [];
  const variants: {
    name: string;
    file: string;
    tarFlag: string;
    goal: number;
    prefer?: ('lbzip2' | 'bzip2' | 'js')[];
  }[] = [
    { name: '.tar.gz', file: 'tree.tar.gz', tarFlag: '-xz', goal: 1.0 },
    {
      name: '.tar.bz2 (lbzip2)',
      file: 'tree.tar.bz2',
      tarFlag: '-xj',
      goal: 0.6,
      prefer: ['lbzip2', 'bzip2'],
    },
  ];
  if (process.env.BENCH_BZIP2_FALLBACK) {
    variants.push({
      name: '.tar.bz2 (bzip2 only)',
      file: 'tree.tar.bz2',
      tarFlag: '-xj',
      goal: 0.6,
      prefer: ['bzip2'],
    });
  }
  if (process.env.BENCH_BZIP2_JS) {
    variants.push({
      name: '.tar.bz2 (pure-JS fallback)',
      file: 'tree.tar.bz2',
      tarFlag: '-xj',
      goal: 0.6,
      prefer: ['js'],
    });
  }
  try {
    for (const v of variants) {
      const file = join(www, v.file);
      const size = statSync(file).size;
      const sha256 = await sha256File(file);
      const url = `${origin.base}/${v.file}`;
      const agent: { ms: number; wallMs: number; maxRssKb: number }[] = [];
      const base: number[] = [];
      for (let r = 0; r < runs; r++) {
        // Interleaved, alternating which goes first, to spread the VM's noise evenly.
        const order = r % 2 === 0 ? ['agent', 'base'] : ['base', 'agent'];
        for (const which of order) {
          const out = join(work, 'out');
          rmSync(out, { recursive: true, force: true });
          mkdirSync(out, { recursive: true });
          if (which === 'agent')
            agent.push(timeAgent({ url, sha256, size, instanceDir: out, prefer: v.prefer }));
          else
            base.push(
              timeShell(
                `curl -s ${url} | tee >(sha256sum > ${work}/sum) | tar ${v.tarFlag} -C ${out}; wait $!`,
              ),
            );
          const last = which === 'agent' ? agent.at(-1)!.ms : base.at(-1)!;
          console.log(`${v.name} run ${r + 1} ${which}: ${(last / 1000).toFixed(2)} s`);
        }
      }
      rows.push({
        name: v.name,
        agentMs: median(agent.map((a) => a.ms)),
        agentWallMs: median(agent.map((a) => a.wallMs)),
        baselineMs: median(base),
        rssMb: Math.max(...agent.map((a) => a.maxRssKb)) / 1024,
        goal: v.goal,
      });
    }
  } finally {
    origin.stop();
    rmSync(join(work, 'out'), { recursive: true, force: true });
  }

  const machine = `${cpus().length} vCPU ${cpus()[0]?.model ?? ''}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`;
  const lines = [
    '## install',
    '',
    `Command: \`BENCH_SIZE_MB=${sizeMb} BENCH_RUNS=${runs}${process.env.BENCH_BZIP2_FALLBACK ? ' BENCH_BZIP2_FALLBACK=1' : ''}${process.env.BENCH_BZIP2_JS ? ' BENCH_BZIP2_JS=1' : ''} node --import tsx bench/install.bench.ts\``,
    `Date: ${new Date().toISOString()}. Machine: ${machine}. Origin: ${origin.server} on 127.0.0.1.`,
    `Load average (1 min) at start / end: ${loadBefore.toFixed(1)} / ${loadavg()[0]!.toFixed(1)} (other sessions share this VM; lbzip2 needs both cores).`,
    `Tree: ${sizeMb} MiB game-like (60 % in 7 random .pak files, 40 % small lua/json/xml/cfg/log text files).`,
    `Baseline: \`curl -s URL | tee >(sha256sum > f) | tar -xz|-xj -C dir; wait $!\`. Agent: \`installPackage\` in a child node`,
    'process (download + SHA-256 + decompress + checked extraction + atomic rename), timed inside the child; "wall" adds node + tsx start-up.',
    `Median of ${runs} interleaved runs; peak RSS is the child's maxRSS (includes the tsx loader).`,
    '',
    '| archive | agent | agent wall | baseline | ratio (agent / baseline) | goal | peak RSS |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${(r.agentMs / 1000).toFixed(2)} s | ${(r.agentWallMs / 1000).toFixed(2)} s | ${(r.baselineMs / 1000).toFixed(2)} s | ${(r.agentMs / r.baselineMs).toFixed(2)}× (wall ${(r.agentWallMs / r.baselineMs).toFixed(2)}×) | ≤ ${r.goal.toFixed(1)}× | ${r.rssMb.toFixed(0)} MB |`,
    ),
    '',
    'Pure-JS bzip2 fallback (`unbzip2-stream`, used only on a host with neither lbzip2 nor bzip2): run with BENCH_BZIP2_JS=1.',
    '',
  ];
  const section = lines.join('\n');
  console.log(`\n${section}`);
  const resultsFile = join(import.meta.dirname, 'RESULTS.md');
  const existing = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '# Benchmark results\n\n';
  const start = existing.indexOf('## install\n');
  const updated =
    start === -1
      ? `${existing.trimEnd()}\n\n${section}`
      : existing.slice(0, start) +
        section +
        (existing.slice(start).match(/\n## (?!install\n)[\s\S]*$/)?.[0] ?? '');
  writeFileSync(resultsFile, `${updated.trimEnd()}\n`);
};

const childIndex = process.argv.indexOf('--child');
if (childIndex !== -1) await runChild(JSON.parse(process.argv[childIndex + 1]!) as ChildArgs);
else await main();
