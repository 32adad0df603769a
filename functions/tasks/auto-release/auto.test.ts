import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import type { Package } from '../../../core/model/index.js';
import { startTestDynamoDb, type TestDynamoDb } from '../../../test/helpers/dynamodb.js';
import {
  type ActionWorkflowStack,
  type FakeRelay,
  startFakeRelay,
} from '../../../workflows/action.fixture.js';
import { startReleaseWorkflow } from '../../../workflows/release.fixture.js';
import { createApp } from '../../api/app.js';
import { AUTO_RELEASE_CREATOR, type AutoReleaseDeps, autoRelease } from './auto.js';

type AppDeps = Parameters<typeof createApp>[0];

describe('autoRelease on the local Step Functions emulator', () => {
  let db: TestDynamoDb;
  let stack: ActionWorkflowStack;
  let relay: FakeRelay;
  let deps: AutoReleaseDeps;

  const stagedPackage = async (game: string, version: string) => {
    const pkg = await db.store.packages.create({
      game,
      version,
      fileName: `${game}.tar.gz`,
      size: 10,
      s3Key: `packages/${game}/${version}/${game}.tar.gz`,
      state: 'verifying',
    });
    await db.store.packages.transition(pkg.id, 'verified', { sha256: 'd'.repeat(64) });
    await db.store.packages.transition(pkg.id, 'staging');
    await db.store.packages.transition(pkg.id, 'staged', {
      origins: [{ id: 'o1', url: `http://127.0.0.1:9/${game}.tar.gz`, verified: true }],
    });
    return pkg.id;
  };

  beforeAll(async () => {
    db = await startTestDynamoDb('dynalite', 'auto-release');
    for (const id of ['a1', 'a2', 'a3']) {
      await db.store.hosts.create({ id, address: '127.0.0.1', tags: { group: 'auto' } });
    }
    for (const name of ['demo', 'quiet', 'busy']) {
      await db.store.games.create({ name, queryProtocol: 'q3a', defaultPort: 27960 });
    }
    await db.store.games.setPolicy('demo', {
      autoRelease: true,
      target: { tags: { group: 'auto' } },
      strategy: { canary: 1, batch: 2 },
    });
    await db.store.games.setPolicy('busy', { autoRelease: true, target: { hosts: ['a2'] }, strategy: {} });
    stack = await startReleaseWorkflow(db.store);
    relay = startFakeRelay({ sfn: stack.sfn, activityArn: stack.activityArn, store: db.store });
    deps = {
      store: db.store,
      sfn: stack.sfn,
      stateMachineArn: stack.stateMachineArn,
      logger: createLogger('test', { level: 'silent' }),
    };
  });
  afterAll(async () => {
    await relay?.stop();
    await stack?.close();
    await db?.close();
  });

  const untilEnded = async (id: string) => {
    for (let i = 0; i < 800; i++) {
      const release = await db.store.releases.get(id);
      if (['succeeded', 'failed', 'rolled_back', 'cancelled'].includes(release.state)) return release;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`release ${id} never ended`);
  };

  it('starts one release of a staged package per its game policy, however often the task is retried', async () => {
    const packageId = await stagedPackage('demo', '2.0.0');

    const [first, retried] = await Promise.all([
      autoRelease(deps, { packageId }),
      autoRelease(deps, { packageId }),
    ]);

    expect(first).toMatchObject({ started: true, packageId });
    expect(retried.releaseId).toBe(first.releaseId);
    const release = await untilEnded(first.releaseId as string);
    expect(release).toMatchObject({
      state: 'succeeded',
      createdBy: AUTO_RELEASE_CREATOR,
      version: '2.0.0',
      hostIds: ['a1', 'a2', 'a3'],
      strategy: { canary: 1, batch: 2 },
    });
    const { executions } = await stack.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn }),
    );
    expect(executions?.filter((e) => e.name === release.id)).toHaveLength(1);
    expect((await db.store.packages.get(packageId)).autoRelease).toMatchObject({ releaseId: release.id });
    // A retry after the release ended still names it, and starts nothing.
    expect(await autoRelease(deps, { packageId })).toMatchObject({ started: true, releaseId: release.id });
  });

  it('records why, without failing, when no policy applies or the target is busy', async () => {
    const quiet = await stagedPackage('quiet', '1.0.0');
    const busy = await stagedPackage('busy', '1.0.0');
    await db.store.releases.create({
      id: 'rel-holder',
      game: 'demo',
      version: '2.0.0',
      packageId: 'demo@2.0.0',
      target: { hosts: ['a2'] },
      strategy: {},
    });
    await db.store.hostLocks.acquire('rel-holder', ['a2']);

    const none = await autoRelease(deps, { packageId: quiet });
    const refused = await autoRelease(deps, { packageId: busy });

    expect(none).toEqual({
      packageId: quiet,
      started: false,
      reason: "game 'quiet' has no auto-release policy",
    });
    expect(refused.started).toBe(false);
    expect(refused.reason).toContain("host 'a2' is busy in release 'rel-holder'");
    expect((await db.store.releases.list({ limit: 500 })).items.filter((r) => r.game === 'busy')).toEqual([]);
    // Where an operator looks: the package, through the API; a package no policy applies to has nothing.
    const app = createApp({
      store: db.store,
      logger: createLogger('test', { level: 'silent' }),
    } as Partial<AppDeps> as AppDeps);
    const { key } = await db.store.apiKeys.create({ name: 'reader', role: 'viewer' });
    const read = async (id: string) =>
      (await (
        await app.request(`/v1/packages/${id}`, { headers: { authorization: `Bearer ${key}` } })
      ).json()) as Package;
    const shown = await read(busy);
    expect(shown.state).toBe('staged');
    expect(shown.autoRelease).toMatchObject({ refused: refused.reason });
    expect(shown.autoRelease?.at).toBeDefined();
    expect((await read(quiet)).autoRelease).toBeUndefined();
  });

  it('skips a package that is not staged', async () => {
    const pkg = await db.store.packages.create({
      game: 'demo',
      version: '3.0.0',
      fileName: 'demo.tar.gz',
      size: 1,
      s3Key: 'packages/demo/3.0.0/demo.tar.gz',
      state: 'verifying',
    });

    const result = await autoRelease(deps, { packageId: pkg.id });

    expect(result).toMatchObject({ started: false, reason: 'the package is verifying, not staged' });
  });
});
