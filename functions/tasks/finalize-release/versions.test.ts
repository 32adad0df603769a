import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../core/model/index.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import { hostVersions, versionSummary } from './versions.js';

const job = (hostId: string, action: string, state: Job['state'], result?: Record<string, unknown>): Job =>
  ({
    id: `rel-1.${hostId}.${action}`,
    parentType: 'release',
    parentId: 'rel-1',
    hostId,
    action,
    state,
    params: {},
    attempt: 1,
    ...(result ? { result } : {}),
  }) as unknown as Job;

describe('hostVersions', () => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'release-versions');
    await db.store.hosts.create({
      id: 'sick',
      address: '127.0.0.1',
      instances: [{ name: 'demo', game: 'demo', port: 27960, version: '1.0.0' }],
    });
  });
  afterAll(async () => db?.close());

  it("takes each host's version from the agent's deploy and rollback results, else from the host record", async () => {
    const release = { game: 'demo', version: '1.1.0', hostIds: ['ok', 'back', 'sick', 'gone'] };
    const deploys = [
      job('ok', 'deploy', 'succeeded', { version: '1.1.0', previous: '1.0.0', switched: true }),
      job('back', 'deploy', 'succeeded', { version: '1.1.0', previous: '0.9.0', switched: true }),
      job('sick', 'deploy', 'failed'),
      job('gone', 'deploy', 'cancelled'),
    ];
    const rollbacks = [job('back', 'rollback', 'succeeded', { version: '0.9.0', previous: '1.1.0' })];

    const versions = await hostVersions(db.store, release, deploys, rollbacks);

    expect(versions).toEqual({ ok: '1.1.0', back: '0.9.0', sick: '1.0.0', gone: 'unknown' });
    expect(versionSummary(versions)).toEqual({ '1.1.0': 1, '0.9.0': 1, '1.0.0': 1, unknown: 1 });
  });

  it('puts a host whose deploy failed on the version it ran at planning, not what the monitor saw mid-deploy', async () => {
    // Prepare: the monitor caught 'flaky' running 1.1.0 during its health check, before the switch back.
    await db.store.hosts.create({
      id: 'flaky',
      address: '127.0.0.1',
      instances: [{ name: 'demo', game: 'demo', port: 27961, version: '1.1.0' }],
    });
    const release = {
      game: 'demo',
      version: '1.1.0',
      hostIds: ['flaky', 'undone'],
      versionsBefore: { flaky: '1.0.0', undone: '1.0.0' },
    };
    const deploys = [
      job('flaky', 'deploy', 'failed'),
      job('undone', 'deploy', 'succeeded', { version: '1.1.0' }),
    ];
    const rollbacks = [job('undone', 'rollback', 'succeeded')];

    // Act
    const versions = await hostVersions(db.store, release, deploys, rollbacks);

    // Assess: the rollback result names no version, so the planning-time one answers there too.
    expect(versions).toEqual({ flaky: '1.0.0', undone: '1.0.0' });
  });
});
