import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from './errors.js';

/** Where `gsm dev` records its endpoints, relative to the working directory. */
export const DEV_FILE = join('.gsm', 'dev.json');

const Endpoint = z
  .url({ protocol: /^https?$/, error: 'the endpoint is an http(s) URL, e.g. http://127.0.0.1:8787' })
  // The API's routes live under /v1; accept the endpoint with or without it.
  .transform((url) => url.replace(/\/+$/, '').replace(/\/v1$/, ''));

const ApiKey = z.string().trim().min(1, 'the API key is empty');

/** What `gsm dev` writes; only the keys the CLI reads are checked, the rest is for other tools. */
const DevFile = z.looseObject({ api: Endpoint, apiKey: ApiKey.optional() });

/** The variables the CLI reads, and nothing else from the environment. */
export interface CliEnv {
  readonly endpoint?: string;
  readonly apiKey?: string;
  /** Test hook (GSM_TEST_ABORT_AFTER_PARTS): `package push` stops as if killed after sending this many parts. */
  readonly abortAfterParts?: number;
}

export const readCliEnv = (env: NodeJS.ProcessEnv = process.env): CliEnv => ({
  endpoint: env.GSM_ENDPOINT || undefined,
  apiKey: env.GSM_API_KEY || undefined,
  ...(/^\d+$/.test(env.GSM_TEST_ABORT_AFTER_PARTS ?? '')
    ? { abortAfterParts: Number(env.GSM_TEST_ABORT_AFTER_PARTS) }
    : {}),
});

export interface GlobalFlags {
  readonly endpoint?: string;
  readonly apiKey?: string;
}

export interface ApiConfig {
  readonly endpoint: string;
  readonly apiKey: string;
  /** Where each value came from, for hints: `--endpoint`, `GSM_API_KEY`, `.gsm/dev.json`. */
  readonly sources: { readonly endpoint: string; readonly apiKey: string };
}

export interface ConfigInputs {
  readonly flags: GlobalFlags;
  readonly env: CliEnv;
  readonly cwd: string;
}

type DevFileContents = z.infer<typeof DevFile>;

const readDevFile = async (cwd: string): Promise<DevFileContents | undefined> => {
  const path = join(cwd, DEV_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path} is not valid JSON`, {
      cause: error,
      hint: 'restart `gsm dev` to rewrite it, or delete it',
    });
  }
  const parsed = DevFile.safeParse(json);
  if (!parsed.success) {
    throw new UserError(`${path} does not look like a gsm dev file`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(file)', message: i.message })),
      hint: 'restart `gsm dev` to rewrite it, or delete it',
    });
  }
  return parsed.data;
};

const pick = <T>(candidates: readonly (readonly [T | undefined, string])[]): [T, string] | undefined => {
  for (const [value, source] of candidates) if (value !== undefined) return [value, source];
  return undefined;
};

const check = <S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new UserError(`bad value from ${source}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
};

const WHERE = 'pass --endpoint and --api-key, set GSM_ENDPOINT and GSM_API_KEY, or run `gsm dev` here';

/**
 * Endpoint and key, each from the first of: flags, environment, `.gsm/dev.json` in the
 * working directory. Each value is taken on its own, so GSM_API_KEY can pair with the
 * endpoint `gsm dev` recorded.
 */
export const resolveApiConfig = async ({ flags, env, cwd }: ConfigInputs): Promise<ApiConfig> => {
  const needsFile =
    (flags.endpoint ?? env.endpoint) === undefined || (flags.apiKey ?? env.apiKey) === undefined;
  const file = needsFile ? await readDevFile(cwd) : undefined;

  const endpoint = pick([
    [flags.endpoint, '--endpoint'],
    [env.endpoint, 'GSM_ENDPOINT'],
    [file?.api, DEV_FILE],
  ]);
  if (!endpoint) throw new UserError('no gsm API endpoint is configured', { hint: WHERE });
  const apiKey = pick([
    [flags.apiKey, '--api-key'],
    [env.apiKey, 'GSM_API_KEY'],
    [file?.apiKey, DEV_FILE],
  ]);
  if (!apiKey) {
    throw new UserError('no API key is configured', {
      hint: `pass --api-key or set GSM_API_KEY (an admin makes one with \`gsm keys create\`), or run \`gsm dev\` here`,
    });
  }
  return {
    endpoint: check(Endpoint, endpoint[0], endpoint[1]),
    apiKey: check(ApiKey, apiKey[0], apiKey[1]),
    sources: { endpoint: endpoint[1], apiKey: apiKey[1] },
  };
};
