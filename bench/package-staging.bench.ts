// Staging one package to two local origins (origin-role agents behind Debian nginx, driven by the
// relay of the local stack) vs `curl` of the object from S3 into each origin's folder plus
// `openssl dgst -sha256` there, both origins at once, in the same script. Usage:
//   node --import tsx bench/package-staging.bench.ts              (1 GiB, 3 interleaved runs)
//   BENCH_SIZE_MB=2048 BENCH_RUNS=3 BENCH_APPEND=1 node --import tsx bench/package-staging.bench.ts
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, createReadStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createAwsClients } from '../core/aws.js';
import { createPackageObjects } from '../core/store/objects.js';
import { startDevStack } from '../local/dev.js';
import { type AgentProcess, spawnAgent, writeAgentConfig } from '../test/helpers/agent-process.js';
import { startNginx, type TestNginx } from '../test/helpers/nginx.js';
import { ensureRandomFile } from './files.js';
import { fmt, median } from './stats.js';

const MiB = 1024 * 1024;
const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 1024);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const dir = process.env.BENCH_DIR ?? `/tmp/gsm-bench-stage-${sizeMb}`;
const root = join(import.meta.dirname, '..');
const file = join(dir, `bench-${sizeMb}.tar.gz`);

const ensureFile = () => ensureRandomFile(file, sizeMb);

const sh = (script: string) =>
  new Promise<number>((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`${script} exited ${code}`)),
    );
  });

const main = async () => {
  ensureFile();
  process.env.GSM_LOG_LEVEL ??= 'warn';
  const work = await mkdtemp(join(dir, 'run-'));
  await chmod(work, 0o755);
  const stack = await startDevStack({
    port: 0,
    cwd: work,
    data: join(work, 'data'),
    logLevel: 'silent',
    demo: false,
  });
  const { endpoints, store } = stack;
  await store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 28960 });
  // The stack's own relay derives the agents' secrets from this.
  const masterSecret = (await readFile(join(work, 'data', 'agent-master-secret'), 'utf8')).trim();
  const aws = createAwsClients({
    region: endpoints.region,
    credentials: endpoints.credentials,
    endpoints: { dynamodb: endpoints.dynamodb, s3: endpoints.s3, stepfunctions: endpoints.stepfunctions },
    s3ForcePathStyle: true,
  });
  const objects = createPackageObjects({ s3: aws.s3, bucket: endpoints.bucket });

  // Each origin agent in its own process, as on its own machine: their downloads and hashes
  // do not take turns with the stack's S3, relay and tasks on one thread.
  const agents: AgentProcess[] = [];
  const nginxes: TestNginx[] = [];
  const roots: string[] = [];
  for (const name of ['a', 'b']) {
    const webRoot = await mkdtemp(join(work, `www-${name}-`));
    await chmod(webRoot, 0o755);
    roots.push(webRoot);
    const dataDir = await mkdtemp(join(work, `agent-${name}-`));
    const configFile = await writeAgentConfig(dataDir, {
      hostId: `origin-${name}`,
      listen: { host: '127.0.0.1', port: 0 },
      secrets: { master: masterSecret },
      dataDir,
      role: 'origin',
      webRoot,
      // "agent listening" (info) tells spawnAgent the port.
      logLevel: 'info',
      allowRoot: true,
    });
    const agent = await spawnAgent(configFile);
    agents.push(agent);
    const nginx = await startNginx(webRoot);
    nginxes.push(nginx);
    await store.hosts.create({
      id: `origin-${name}`,
      address: '127.0.0.1',
      port: agent.port,
      role: 'origin',
    });
    await store.origins.create({ id: `nginx-${name}`, baseUrl: nginx.base, hostId: `origin-${name}` });
  }

  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');

  const staging: number[] = [];
  const stageJobs: number[] = [];
  /** Each stage job from the agent's start to its end: the download, hash, write and publish alone. */
  const jobRuns: number[] = [];
  const baseline: number[] = [];
  /** What the check through the origins costs done with tools: `curl | openssl` of each served copy. */
  const checkBaseline: number[] = [];
  for (let i = 0; i < runs; i++) {
    const version = `bench.${Date.now()}.${i}`;
    const key = `incoming/demo/${version}/bench.tar.gz`;
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: endpoints.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: sizeMb * MiB,
        Metadata: { sha256 },
      }),
    );
    // From the moment intake has verified it to staged on both origins (checked through nginx).
    let from: number | undefined;
    for (;;) {
      const pkg = await store.packages.get(`demo@${version}`).catch(() => undefined);
      if (pkg && from === undefined && ['verified', 'staging'].includes(pkg.state)) from = performance.now();
      if (pkg?.state === 'staged') break;
      if (pkg?.state === 'rejected' || (pkg?.state === 'verified' && pkg.origins.length > 0)) {
        throw new Error(`staging failed: ${pkg.reason}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const stagedAt = performance.now();
    staging.push(stagedAt - (from ?? stagedAt));
    // The split: until the last stage job ended (download, hash, write, fsync, publish), then
    // the check through the origins (HEAD, GET + SHA-256 of each copy) and the bookkeeping.
    const jobs = (
      await Promise.all(['origin-a', 'origin-b'].map((h) => store.jobs.listByHost(h, { limit: 100 })))
    )
      .flatMap((page) => page.items)
      .filter((j) => j.action === 'stage' && (j.params as { version?: string }).version === version);
    const lastEnd = Math.max(...jobs.map((j) => Date.parse(j.endedAt ?? j.updatedAt)));
    for (const j of jobs) {
      if (j.startedAt && j.endedAt) jobRuns.push(Date.parse(j.endedAt) - Date.parse(j.startedAt));
    }
    stageJobs.push(stagedAt - (Date.now() - lastEnd) - (from ?? stagedAt));

    const served = nginxes.map((n) => `${n.base}/packages/demo/${version}/bench.tar.gz`);
    checkBaseline.push(
      await sh(
        `${served.map((u) => `(curl -sS -f '${u}' | openssl dgst -sha256 >/dev/null) &`).join(' ')} wait -n && wait -n`,
      ),
    );

    const url = await objects.getUrl(key, 3600);
    const targets = roots.map((r) => join(r, `curl-${i}.bin`));
    baseline.push(
      await sh(
        `${targets
          .map((t) => `(curl -sS -f -o '${t}' '${url}' && openssl dgst -sha256 '${t}' >/dev/null) &`)
          .join(' ')} wait -n && wait -n`,
      ),
    );
    for (const r of roots) await rm(join(r, 'packages'), { recursive: true, force: true });
    for (const t of targets) await rm(t, { force: true });
    await objects.remove(key);
  }

  for (const agent of agents) {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
  for (const nginx of nginxes) await nginx.close();
  aws.s3.destroy();
  aws.sfn.destroy();
  aws.dynamodb.destroy();
  await stack.close();
  await rm(work, { recursive: true, force: true });

  const m = {
    staging: median(staging),
    stageJobs: median(stageJobs),
    baseline: median(baseline),
    checkBaseline: median(checkBaseline),
  };
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const lines = [
    '',
    '## package staging',
    '',
    `Command: \`BENCH_SIZE_MB=${sizeMb} BENCH_RUNS=${runs} node --import tsx bench/package-staging.bench.ts\``,
    `Date: ${new Date().toISOString()}. Machine: ${cpus().length} vCPU ${cpu}, ${Math.round(totalmem() / 1024 ** 3)} GiB RAM, Node ${process.version}.`,
    `Package: ${sizeMb} MiB of random bytes dropped under incoming/. Two origins: an origin-role agent each, behind its own`,
    "Debian nginx, each agent in its own process (`gsm agent`, as on its own machine); the stack's relay runs the stage",
    'jobs. Staging = from verified to staged: stage jobs (download the presigned GET, SHA-256 while streaming, 4 MiB',
    'writes, fsync, atomic publish) plus the check through each origin (HEAD size, GET hash).',
    'Baseline: `curl -o <origin folder>/f <presigned GET>` then `openssl dgst -sha256` there, both origins at once.',
    `Median of ${runs} interleaved runs.`,
    '',
    '| what | gsm | baseline | ratio | goal |',
    '|---|---|---|---|---|',
    `| staging to two origins vs curl + openssl per origin | ${fmt(m.staging)} | ${fmt(m.baseline)} | ${(m.staging / m.baseline).toFixed(2)}× | ≤ 1.3× |`,
    '',
    `Of the staging time, verified → last stage job ended: median ${fmt(m.stageJobs)} (each job, the agent's start to its end: median ${fmt(median(jobRuns))}); the rest is the check through the origins.`,
    `The check done with tools instead (\`curl <origin URL> | openssl dgst -sha256\`, both origins at once) takes ${fmt(m.checkBaseline)}: the same work with tools, download + hash at each origin and then the check through it, would be ${((m.baseline + m.checkBaseline) / m.baseline).toFixed(2)}× the baseline.`,
    `Raw (ms): staging ${staging.map((v) => v.toFixed(0)).join(', ')}; stage jobs ${stageJobs.map((v) => v.toFixed(0)).join(', ')}; baseline ${baseline.map((v) => v.toFixed(0)).join(', ')}; check with tools ${checkBaseline.map((v) => v.toFixed(0)).join(', ')}.`,
    `Load average (1 min) at the end: ${loadavg()[0]?.toFixed(1)} (other sessions share this VM).`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (process.env.BENCH_APPEND === '1') appendFileSync(join(root, 'bench/RESULTS.md'), lines.join('\n'));
};

await main();
