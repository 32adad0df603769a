import { describe, expect, it } from 'vitest';
import { createApiClient } from '../../cli/client.js';
import { tagHost } from '../../cli/commands/hosts/tag.js';
import { api, endpoint, gsm, requests, useCliHarness } from '../helpers/cli-harness.js';

/**
 * The real `gsm` (from source, as a child process) against the real API on a loopback port,
 * over a real store on dynalite (test/helpers/cli-harness.ts).
 */
useCliHarness();

describe('gsm hosts', () => {
  it('adds a host and lists it back as JSON', async () => {
    // Act
    const added = await gsm([
      'hosts',
      'add',
      'eu-1',
      '--address',
      '10.0.0.1',
      '--tag',
      'region=eu',
      '--json',
    ]);
    const listed = await gsm(['hosts', 'list', '--json']);

    // Assess
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      id: 'eu-1',
      address: '10.0.0.1',
      port: 7420,
      role: 'game',
    });
    expect(listed.code).toBe(0);
    const hosts = JSON.parse(listed.stdout) as { id: string; tags: Record<string, string> }[];
    expect(hosts.find((h) => h.id === 'eu-1')).toMatchObject({ tags: { region: 'eu' }, protocol: 'v2' });
  });

  it('shows hosts as a table for people', async () => {
    await gsm([
      'hosts',
      'add',
      'us-1',
      '--address',
      'us-1.example.net',
      '--port',
      '7500',
      '--tag',
      'region=us',
    ]);

    const listed = await gsm(['hosts', 'list', '--tag', 'region=us']);

    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+ADDRESS\s+PORT\s+ROLE/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^us-1\s+us-1\.example\.net\s+7500\s+game\s+v2\s+unknown\s+-\s+region=us$/);
  });

  it('pages through every host matching a filter', async () => {
    // Prepare: more hosts than one page holds (the API's default page is 50)
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        api.store.hosts.create({
          id: `bulk-${String(i).padStart(2, '0')}`,
          address: `10.1.0.${i + 1}`,
          role: i % 2 === 0 ? 'game' : 'origin',
          tags: { group: 'bulk' },
        }),
      ),
    );

    const all = await gsm(['hosts', 'list', '--tag', 'group=bulk', '--json']);
    const origins = await gsm(['hosts', 'list', '--tag', 'group=bulk', '--role', 'origin', '--json']);

    expect(all.code).toBe(0);
    expect((JSON.parse(all.stdout) as unknown[]).length).toBe(60);
    const originHosts = JSON.parse(origins.stdout) as { role: string }[];
    expect(originHosts).toHaveLength(30);
    expect(originHosts.every((h) => h.role === 'origin')).toBe(true);
  });

  it('shows one host, and says 404 plainly for an unknown one', async () => {
    await gsm(['hosts', 'add', 'show-1', '--address', '10.0.0.9']);

    const shown = await gsm(['hosts', 'show', 'show-1']);
    const missing = await gsm(['hosts', 'show', 'nope']);

    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^id\s+show-1$/m);
    expect(shown.stdout).toMatch(/^address\s+10\.0\.0\.9:7420$/m);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe("error: host 'nope' does not exist\n");
  });

  it('merges tags: sets new ones, keeps the rest, removes with --remove', async () => {
    await gsm(['hosts', 'add', 'tag-1', '--address', '10.0.0.2', '--tag', 'region=eu', '--tag', 'tier=a']);

    const tagged = await gsm(['hosts', 'tag', 'tag-1', 'tier=b', 'rack=r7', '--remove', 'region', '--json']);

    expect(tagged.code).toBe(0);
    expect(JSON.parse(tagged.stdout).tags).toEqual({ tier: 'b', rack: 'r7' });
  });

  it('merges tags with a change made between its read and its write instead of overwriting it', async () => {
    await gsm(['hosts', 'add', 'tag-2', '--address', '10.0.0.4', '--tag', 'region=eu']);
    const client = createApiClient({
      endpoint,
      apiKey: api.keys.admin,
      sources: { endpoint: 'test', apiKey: 'test' },
    });
    let raced = false;
    const racing: typeof client = {
      ...client,
      hosts: {
        ...client.hosts,
        // Another operator tags the host right after this read: the read is stale by the write.
        get: async (id) => {
          const host = await client.hosts.get(id);
          if (!raced) {
            raced = true;
            await api.store.hosts.update(id, { tags: { ...host.tags, owner: 'ops' } });
          }
          return host;
        },
      },
    };
    requests.length = 0;

    const tagged = await tagHost(racing, 'tag-2', { set: { tier: 'b' }, remove: [] });

    expect(tagged.tags).toEqual({ region: 'eu', owner: 'ops', tier: 'b' });
    expect(requests).toEqual([
      'GET /v1/hosts/tag-2',
      'PATCH /v1/hosts/tag-2',
      'GET /v1/hosts/tag-2',
      'PATCH /v1/hosts/tag-2',
    ]);
  });

  it('removes a host', async () => {
    await gsm(['hosts', 'add', 'gone-1', '--address', '10.0.0.3']);

    const removed = await gsm(['hosts', 'remove', 'gone-1']);
    const after = await gsm(['hosts', 'show', 'gone-1']);

    expect(removed.code).toBe(0);
    expect(removed.stderr).toBe("host 'gone-1' removed\n");
    expect(after.code).toBe(1);
  });

  it('reports a conflict from the API when the id is taken', async () => {
    await gsm(['hosts', 'add', 'dup-1', '--address', '10.0.0.4']);

    const again = await gsm(['hosts', 'add', 'dup-1', '--address', '10.0.0.4']);

    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*dup-1.*\n$/);
  });

  it.each([
    { case: 'a tag without =', args: ['--tag', 'region'], issue: "  --tag: 'region' is not key=value" },
    { case: 'a port out of range', args: ['--port', '70000'], issue: '  --port: Too big' },
    {
      case: 'a port that is not a number',
      args: ['--port', 'http'],
      issue: '  --port: expected a whole number',
    },
    { case: 'an unknown role', args: ['--role', 'relay'], issue: '  --role: Invalid option' },
    {
      case: 'a legacy host without its key',
      args: ['--protocol', 'legacy'],
      issue: '  --legacy-key: legacy hosts',
    },
  ])('refuses $case before sending any request', async ({ args, issue }) => {
    const before = requests.length;

    const run = await gsm(['hosts', 'add', 'bad-1', '--address', '10.0.0.5', ...args]);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error: invalid arguments to `gsm hosts add`\n');
    expect(run.stderr).toContain(issue);
    expect(run.stderr).toContain('hint: see `gsm hosts add --help`');
    expect(requests.length).toBe(before);
  });

  it('refuses a bad tag selector on list before sending any request', async () => {
    const before = requests.length;

    const run = await gsm(['hosts', 'list', '--tag', 'nokey']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--tag: 'nokey' is not key=value");
    expect(requests.length).toBe(before);
  });
});
