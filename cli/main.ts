import { Command, CommanderError, Option } from 'commander';
import type { z } from 'zod';
import { type ApiClient, createApiClient } from './client.js';
import type { CommandContext, CommandDefinition } from './command.js';
import { COMMANDS, NOUNS } from './commands/index.js';
import { type CliEnv, type GlobalFlags, readCliEnv, resolveApiConfig } from './config.js';
import { UserError } from './errors.js';
import { createOutput, type Output, type OutputStreams } from './output.js';

/** What a run needs from the process; tests may pass their own. */
export interface MainOptions {
  readonly env?: CliEnv;
  readonly cwd?: string;
  readonly streams?: OutputStreams;
}

interface GlobalOptions extends GlobalFlags {
  readonly json?: boolean;
}

type Issue = z.core.$ZodIssue;

/** `tags.region` with labels {tags: '--tag'} reads `--tag region`; array indexes add nothing. */
const issuePath = (path: readonly PropertyKey[], labels: Readonly<Record<string, string>>): string => {
  const [head, ...rest] = path;
  const name = head === undefined ? '(arguments)' : (labels[String(head)] ?? String(head));
  const detail = rest.filter((part) => typeof part !== 'number').map(String);
  return [name, ...detail].join(' ');
};

const inputError = (command: string, issues: readonly Issue[], labels: Readonly<Record<string, string>>) =>
  new UserError(`invalid arguments to \`gsm ${command}\``, {
    issues: issues.map((issue) => ({ path: issuePath(issue.path, labels), message: issue.message })),
    hint: `see \`gsm ${command} --help\``,
  });

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Builds the commander command for one definition; the action checks input, then runs the handler. */
const attach = (
  parent: Command,
  name: string,
  command: string,
  definition: CommandDefinition,
  run: (definition: CommandDefinition, input: unknown, globals: GlobalOptions) => Promise<void>,
): void => {
  const sub = parent.command(name).description(definition.description);
  const labels: Record<string, string> = {};
  for (const arg of definition.args ?? []) {
    const spec = `${arg.name}${arg.variadic ? '...' : ''}`;
    sub.argument(arg.optional ? `[${spec}]` : `<${spec}>`, arg.description);
    labels[arg.name] = `<${arg.name}>`;
  }
  for (const spec of definition.options ?? []) {
    const option = new Option(spec.flags, spec.description);
    if (spec.repeatable) option.argParser(collect);
    sub.addOption(option);
    labels[option.attributeName()] = option.long ?? spec.flags;
  }
  Object.assign(labels, definition.labels);

  sub.action(async (...params: unknown[]) => {
    const self = params.at(-1) as Command;
    const names = (definition.args ?? []).map((arg) => arg.name);
    const raw = { ...Object.fromEntries(names.map((n, i) => [n, self.processedArgs[i]])), ...self.opts() };
    const parsed = definition.input.safeParse(raw);
    if (!parsed.success) throw inputError(command, parsed.error.issues, labels);
    await run(definition, parsed.data, self.optsWithGlobals<GlobalOptions>());
  });
};

const buildProgram = (out: Output, run: Parameters<typeof attach>[4]): Command => {
  const program = new Command('gsm')
    .description('gsm: ship game-server builds to a fleet of game hosts')
    .addOption(new Option('--endpoint <url>', 'gsm API endpoint (default: GSM_ENDPOINT, then .gsm/dev.json)'))
    .addOption(new Option('--api-key <key>', 'API key (default: GSM_API_KEY, then .gsm/dev.json)'))
    .option('--json', 'print one JSON document on stdout instead of a table')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => out.usage(text, 'stdout'),
      writeErr: (text) => out.usage(text, 'stderr'),
    })
    // Commander would call process.exit; main returns the exit code instead.
    .exitOverride();

  const nouns = new Map<string, Command>();
  for (const { command, definition } of COMMANDS) {
    const [first, second] = command.split(' ') as [string, string | undefined];
    if (second === undefined) {
      attach(program, first, command, definition, run);
      continue;
    }
    let noun = nouns.get(first);
    if (!noun) {
      noun = program.command(first).description(NOUNS[first] ?? '');
      nouns.set(first, noun);
    }
    attach(noun, second, command, definition, run);
  }
  return program;
};

/** Runs `gsm` with `argv` as in `process.argv` and returns the exit code; never exits the process. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const out = createOutput(options.streams);
  const env = options.env ?? readCliEnv();
  const cwd = options.cwd ?? process.cwd();
  let exitCode = 0;

  const run = async (definition: CommandDefinition, input: unknown, globals: GlobalOptions) => {
    const flags: GlobalFlags = { endpoint: globals.endpoint, apiKey: globals.apiKey };
    let client: Promise<ApiClient> | undefined;
    const context: CommandContext = {
      out,
      json: globals.json === true,
      flags,
      env,
      cwd,
      api: () => {
        client ??= resolveApiConfig({ flags, env, cwd }).then((config) => createApiClient(config));
        return client;
      },
      setExitCode: (code) => {
        exitCode = code;
      },
    };
    await definition.handler(input, context);
  };

  try {
    await buildProgram(out, run).parseAsync(argv);
    return exitCode;
  } catch (error) {
    // Commander has already printed its usage message (or the help asked for).
    if (error instanceof CommanderError) return error.exitCode;
    return out.fail(error);
  }
}
