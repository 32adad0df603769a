import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { devCommand } from './dev.js';

describe('gsm dev options', () => {
  it('runs the demo release unless --no-demo-release, and lists the flag in its help', async () => {
    const stdout = new PassThrough();
    let help = '';
    stdout.on('data', (c: Buffer) => {
      help += c.toString();
    });

    const code = await main(['node', 'gsm', 'dev', '--help'], {
      env: {},
      cwd: '/nonexistent',
      streams: { stdout, stderr: new PassThrough() },
    });

    expect(code).toBe(0);
    expect(help).toContain('--no-demo-release');
    expect(devCommand.input.parse({}).demoRelease).toBe(true);
    expect(devCommand.input.parse({ demoRelease: false }).demoRelease).toBe(false);
    expect(() => devCommand.input.parse({ demoRelease: 'no' })).toThrow();
  });
});
