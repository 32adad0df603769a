import { inspect } from 'node:util';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { GsmError } from '../core/errors.js';
import { isUserError } from './errors.js';

/**
 * The only module that writes to the terminal. Results go to stdout (a table for people,
 * exactly one JSON document with --json); progress, warnings and errors go to stderr, so
 * `gsm ... --json | jq` always reads clean JSON.
 */

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string | number | undefined;
}

export interface OutputStreams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface Output {
  /** The one JSON document a --json run prints. */
  json(value: unknown): void;
  table<T>(rows: readonly T[], columns: readonly Column<T>[]): void;
  /** `label  value` lines, for one record. */
  details(pairs: readonly (readonly [string, string | number | undefined])[]): void;
  /** A plain result line on stdout (e.g. a secret meant for `$(...)`). */
  result(text: string): void;
  /** Progress and confirmations: stderr, so stdout stays the result alone. */
  info(text: string): void;
  warn(text: string): void;
  /** A byte progress display on stderr: a bar on a terminal, a plain line every few seconds otherwise. */
  progress(label: string, total: number): Progress;
  /** Per-host progress of an action on stderr: a bar and a line per finished host on a terminal, lines otherwise. */
  hosts(label: string, total: number): HostProgress;
  /**
   * A view redrawn in place on stderr (a release's waves and hosts), or undefined when stderr
   * is not a terminal: then the caller prints plain lines instead.
   */
  live(): LiveView | undefined;
  /** Reports a failure and returns the exit code: 1 for user errors, 2 for bugs. */
  fail(error: unknown): number;
  /** Commander's own usage and help text. */
  usage(text: string, stream: 'stdout' | 'stderr'): void;
}

export interface Progress {
  /** Adds done bytes. */
  advance(bytes: number): void;
  stop(): void;
}

export interface HostProgress {
  /** A host's job changed state; `done` counts it as finished, `detail` says why (a failure's reason). */
  update(hostId: string, state: string, done: boolean, detail?: string): void;
  stop(): void;
}

export interface LiveView {
  /** Replaces what the view showed with these lines. */
  draw(lines: readonly string[]): void;
  /** Leaves the last drawing on screen, the cursor below it. */
  stop(): void;
}

const ESC = '\u001b[';

const liveView = (stream: NodeJS.WriteStream): LiveView => {
  let shown = 0;
  // The cursor stays visible: a Ctrl-C mid-view must not leave the terminal without one.
  return {
    draw(all) {
      const width = Math.max(20, (stream.columns || 100) - 1);
      // The cursor cannot move above the screen: a view taller than it is cut to fit.
      const height = Math.max(3, (stream.rows || 50) - 1);
      const lines =
        all.length <= height ? all : [...all.slice(0, height - 1), `… ${all.length - height + 1} more lines`];
      // Up to the first line drawn last time, then each line cleared and rewritten.
      let text = shown > 0 ? `${ESC}${shown}A\r` : '';
      for (const line of lines) text += `${ESC}2K${line.slice(0, width)}\n`;
      if (lines.length < shown) text += `${ESC}J`;
      stream.write(text);
      shown = lines.length;
    },
    stop: () => {},
  };
};

const hostLine = (hostId: string, state: string, detail: string | undefined): string =>
  `  ${hostId}  ${state}${detail ? `  ${detail}` : ''}`;

const plainHosts = (err: (text: string) => void): HostProgress => ({
  update: (hostId, state, _done, detail) => err(hostLine(hostId, state, detail)),
  stop: () => {},
});

const barHosts = (label: string, total: number, stream: NodeJS.WritableStream): HostProgress => {
  const bars = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WriteStream,
      format: `${label} [{bar}] {value}/{total} hosts | {failed} failed | {running} running`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, 0, { failed: 0, running: 0 });
  const states = new Map<string, { state: string; done: boolean }>();
  const refresh = () => {
    const all = [...states.values()];
    bar.update(all.filter((s) => s.done).length, {
      failed: all.filter((s) => s.done && s.state !== 'succeeded').length,
      running: all.filter((s) => !s.done && s.state !== 'queued').length,
    });
  };
  return {
    update(hostId, state, done, detail) {
      states.set(hostId, { state, done });
      if (done) bars.log(`${hostLine(hostId, state, detail)}\n`);
      refresh();
    },
    stop: () => bars.stop(),
  };
};

const MB = 1e6;
const PLAIN_EVERY_MS = 5000;

const rateText = (bytes: number, ms: number): string =>
  `${(bytes / MB / Math.max(ms / 1000, 1e-3)).toFixed(1)} MB/s`;

const plainProgress = (label: string, total: number, err: (text: string) => void): Progress => {
  const started = performance.now();
  let done = 0;
  let last = started;
  const line = () => {
    const ms = performance.now() - started;
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    err(
      `${label}: ${pct}% (${(done / MB).toFixed(1)} of ${(total / MB).toFixed(1)} MB, ${rateText(done, ms)})`,
    );
  };
  return {
    advance(bytes) {
      done += bytes;
      const now = performance.now();
      if (now - last >= PLAIN_EVERY_MS) {
        last = now;
        line();
      }
    },
    stop: line,
  };
};

const barProgress = (label: string, total: number, stream: NodeJS.WritableStream): Progress => {
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WriteStream,
      format: `${label} [{bar}] {percentage}% | {value}/{total} MB | {rate} | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let done = 0;
  const mb = (bytes: number) => Number((bytes / MB).toFixed(1));
  bar.start(mb(total), 0, { rate: rateText(0, 1) });
  return {
    advance(bytes) {
      done += bytes;
      bar.update(mb(done), { rate: rateText(done, performance.now() - started) });
    },
    stop: () => bar.stop(),
  };
};

// Borderless, kubectl-like: columns line up, and every row is one greppable line.
const PLAIN_CHARS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
} as const;

const cell = (value: string | number | undefined): string =>
  value === undefined || value === '' ? '-' : String(value);

export const createOutput = ({ stdout, stderr }: OutputStreams = process): Output => {
  const out = (text: string) => stdout.write(`${text}\n`);
  const err = (text: string) => stderr.write(`${text}\n`);

  return {
    json: (value) => out(JSON.stringify(value, null, 2)),
    table: (rows, columns) => {
      const table = new Table({
        head: columns.map((c) => c.header),
        chars: PLAIN_CHARS,
        style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
      });
      for (const row of rows) table.push(columns.map((c) => cell(c.value(row))));
      // cli-table3 pads the last column too; trailing blanks only get in the way of grep and diff.
      out(
        table
          .toString()
          .split('\n')
          .map((line) => line.trimEnd())
          .join('\n'),
      );
    },
    details: (pairs) => {
      const width = Math.max(...pairs.map(([label]) => label.length));
      for (const [label, value] of pairs) out(`${label.padEnd(width)}  ${cell(value)}`);
    },
    result: out,
    info: err,
    warn: (text) => err(`warning: ${text}`),
    usage: (text, stream) => (stream === 'stdout' ? stdout : stderr).write(text),
    progress: (label, total) =>
      (stderr as NodeJS.WriteStream).isTTY
        ? barProgress(label, total, stderr)
        : plainProgress(label, total, err),
    hosts: (label, total) =>
      (stderr as NodeJS.WriteStream).isTTY ? barHosts(label, total, stderr) : plainHosts(err),
    live: () => ((stderr as NodeJS.WriteStream).isTTY ? liveView(stderr as NodeJS.WriteStream) : undefined),
    fail: (error) => {
      if (isUserError(error)) {
        err(`error: ${error.message}`);
        for (const issue of error.issues) err(`  ${issue.path}: ${issue.message}`);
        if (error.hint) err(`hint: ${error.hint}`);
        return 1;
      }
      // A core error that is about the operator's setup (a port in use, Java missing, a bad
      // environment) is not a bug in gsm: one line, like a UserError.
      if (error instanceof GsmError && (error.code === 'E_CONFIG' || error.code === 'E_VALIDATION')) {
        err(`error: ${error.message}`);
        return 1;
      }
      err(error instanceof Error && error.stack ? error.stack : `unexpected failure: ${inspect(error)}`);
      err('this is a bug in gsm; please report it with the lines above');
      return 2;
    },
  };
};
