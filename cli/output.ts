import { inspect } from 'node:util';
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
  /** Reports a failure and returns the exit code: 1 for user errors, 2 for bugs. */
  fail(error: unknown): number;
  /** Commander's own usage and help text. */
  usage(text: string, stream: 'stdout' | 'stderr'): void;
}

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
