import type { z } from 'zod';
import type { ApiClient } from './client.js';
import type { CliEnv, GlobalFlags } from './config.js';
import type { Output } from './output.js';

/** A positional argument, in order. */
export interface ArgSpec {
  readonly name: string;
  readonly description: string;
  readonly variadic?: boolean;
  readonly optional?: boolean;
}

/** An option in commander's syntax (`--port <n>`, `--no-demo`). */
export interface OptionSpec {
  readonly flags: string;
  readonly description: string;
  /** May be given more than once; the values are collected into an array. */
  readonly repeatable?: boolean;
}

export interface CommandContext {
  readonly out: Output;
  /** --json: print exactly one JSON document on stdout. */
  readonly json: boolean;
  readonly flags: GlobalFlags;
  readonly env: CliEnv;
  readonly cwd: string;
  /** The API client; endpoint and key are looked up on first use, after arguments are checked. */
  api(): Promise<ApiClient>;
  /** The exit code `main` returns when the handler ends without an error (0 unless set). */
  setExitCode(code: number): void;
}

/**
 * One command, declared: what it takes and what it does. `input` parses the positional
 * arguments (by name) and the options together, so every bad value is refused with one
 * error before the handler runs.
 */
export interface CommandDefinition<S extends z.ZodType = z.ZodType> {
  readonly description: string;
  readonly args?: readonly ArgSpec[];
  readonly options?: readonly OptionSpec[];
  readonly input: S;
  /** How input fields made by the schema are named on the command line, for error messages. */
  readonly labels?: Readonly<Record<string, string>>;
  handler(input: z.output<S>, ctx: CommandContext): Promise<void>;
}

export const defineCommand = <S extends z.ZodType>(definition: CommandDefinition<S>): CommandDefinition<S> =>
  definition;
