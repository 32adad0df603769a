import { describe, expect, it } from 'vitest';
import { runMain } from '../test/helpers/cli-in-process.js';

/** `main` in process, with captured streams and no endpoint: only what fails before any request. */
const run = (...args: string[]) => runMain(args, { env: {} });

describe('main', () => {
  it('prints each bad argument on its own line, names it as typed, and exits 1', async () => {
    const result = await run(
      'hosts',
      'add',
      'Bad Id',
      '--address',
      'http://x',
      '--port',
      '0',
      '--tag',
      'a=b,c',
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toEqual([
      'error: invalid arguments to `gsm hosts add`',
      expect.stringMatching(/^ {2}<id>: use lower-case letters/),
      expect.stringMatching(/^ {2}--address: an address is a host name or an IP address/),
      expect.stringMatching(/^ {2}--port: Too small/),
      '  --tag: tag values cannot contain "=" or ","',
      'hint: see `gsm hosts add --help`',
      '',
    ]);
  });

  it('asks for something to change in `hosts tag`', async () => {
    const result = await run('hosts', 'tag', 'eu-1');

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: nothing to change\nhint: give key=value tags to set, or --remove key\n',
    );
  });

  it('leaves usage errors to commander, with exit 1', async () => {
    const result = await run('keys', 'revoke');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("error: missing required argument 'id'");
  });

  it('lists the commands of a noun in its help', async () => {
    const result = await run('hosts', '--help');

    expect(result.code).toBe(0);
    for (const verb of ['list', 'add', 'show', 'tag', 'remove']) expect(result.stdout).toContain(`  ${verb}`);
  });
});
