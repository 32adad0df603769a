import { PassThrough } from 'node:stream';
import { type MainOptions, main } from '../../cli/main.js';

export interface MainRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `gsm <args>` in process through `main`, with its output captured. */
export const runMain = async (
  args: readonly string[],
  context: Pick<MainOptions, 'env' | 'cwd'>,
): Promise<MainRun> => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: '', stderr: '' };
  stdout.on('data', (c: Buffer) => {
    chunks.stdout += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    chunks.stderr += c.toString();
  });
  const code = await main(['node', 'gsm', ...args], {
    env: context.env,
    cwd: context.cwd ?? '/nonexistent',
    streams: { stdout, stderr },
  });
  return { code, ...chunks };
};
