// The release bench's "poller" role: the operator's reads, timed from a process of their own.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { say } from './processes.js';

/** Gap between one GET's answer and the next GET of the same path. */
const POLL_GAP_MS = 20;

/**
 * BENCH_LATENCY_LOG=file: one line per GET (epoch ms at its start, path, ms at the client, ms the
 * API's Server-Timing says it spent inside), to place the slow reads against the release's events.
 */
const LATENCY_LOG = process.env.BENCH_LATENCY_LOG;

/**
 * The operator's side: GET /v1/releases/:id and GET /v1/hosts?limit=50, each one at a time,
 * POLL_GAP_MS apart, from a process of its own (as a console or CLI would be), so the client's
 * own work never delays the API it measures.
 */
export const pollerRole = async (api: string, key: string) => {
  const poll = async (path: string, state: { stop: boolean }, latencies: number[]) => {
    while (!state.stop) {
      const startedAt = Date.now();
      const started = performance.now();
      const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${key}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
      const ms = performance.now() - started;
      latencies.push(ms);
      if (LATENCY_LOG) {
        const inside = /app;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1] ?? '';
        appendFileSync(LATENCY_LOG, `${startedAt}\t${path}\t${ms.toFixed(1)}\t${inside}\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_GAP_MS));
    }
  };
  say({ ready: true });
  let running:
    | { state: { stop: boolean }; release: number[]; hosts: number[]; done: Promise<unknown> }
    | undefined;
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.startsWith('poll-start ')) {
      const state = { stop: false };
      const release: number[] = [];
      const hosts: number[] = [];
      const done = Promise.all([
        poll(`/v1/releases/${line.slice(11)}`, state, release),
        poll('/v1/hosts?limit=50', state, hosts),
      ]);
      running = { state, release, hosts, done };
    } else if (line === 'poll-stop' && running) {
      running.state.stop = true;
      await running.done;
      say({ latencies: { release: running.release, hosts: running.hosts } });
      running = undefined;
    } else if (line === 'exit') break;
  }
  process.exit(0);
};
