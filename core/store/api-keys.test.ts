import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DYNAMODB_BACKENDS, startTestDynamoDb, type TestDynamoDb } from '../../test/helpers/dynamodb.js';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.js';
import { generateApiKey, parseApiKey } from './api-keys.js';

describe('API key format', () => {
  it('is gsm_<12 lower-case id>_<43 base64url secret>', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^gsm_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key)?.id).toBe(key.slice(4, 16));
  });

  it.each(['', 'gsm_short_x', `gsm_ABCDEFGHIJKL_${'a'.repeat(43)}`, `xyz_abcdefghijkl_${'a'.repeat(43)}`])(
    'rejects %j',
    (key) => {
      expect(parseApiKey(key)).toBeUndefined();
    },
  );
});

describe.each(DYNAMODB_BACKENDS)('API key store on %s', (backend) => {
  let db: TestDynamoDb;
  beforeAll(async () => {
    db = await startTestDynamoDb(backend, 'api-keys');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('creates a key that verifies, stored only as its hash', async () => {
    const created = await db.store.apiKeys.create({ name: 'ci', role: 'operator' });
    const record = await db.store.apiKeys.verify(created.key);

    expect(created.info).toMatchObject({ name: 'ci', role: 'operator' });
    expect(created.info).not.toHaveProperty('hash');
    expect(record).toMatchObject({ id: created.info.id, role: 'operator' });
    expect(record.hash).toMatch(/^[a-f0-9]{64}$/);
    expect(JSON.stringify(record)).not.toContain(created.key.slice(17));
  });

  it('records lastUsedAt on use, at most once a minute', async () => {
    const created = await db.store.apiKeys.create({ name: 'used', role: 'viewer' });
    const first = await db.store.apiKeys.verify(created.key);
    const second = await db.store.apiKeys.verify(created.key);
    expect(first.lastUsedAt).toBeDefined();
    expect(second.lastUsedAt).toBe(first.lastUsedAt);
  });

  it.each([
    ['a malformed key', () => 'not-a-key'],
    ['an unknown id', () => generateApiKey()],
  ])('refuses %s', async (_name, key) => {
    await expect(db.store.apiKeys.verify(key())).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('refuses a key whose secret is wrong', async () => {
    const created = await db.store.apiKeys.create({ name: 'wrong', role: 'viewer' });
    const tampered = `${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`;
    await expect(db.store.apiKeys.verify(tampered)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('refuses a revoked key, and revoking twice keeps the first time', async () => {
    const created = await db.store.apiKeys.create({ name: 'old', role: 'admin' });
    const revoked = await db.store.apiKeys.revoke(created.info.id);
    const again = await db.store.apiKeys.revoke(created.info.id);
    expect(revoked.revokedAt).toBeDefined();
    expect(again.revokedAt).toBe(revoked.revokedAt);
    await expect(db.store.apiKeys.verify(created.key)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('reports revoking an unknown key as not found', async () => {
    await expect(db.store.apiKeys.revoke('aaaaaaaaaaaa')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('accepts a given key of the right format, once', async () => {
    const key = generateApiKey();
    const created = await db.store.apiKeys.create({ name: 'dev', role: 'admin', key });
    expect(created.key).toBe(key);
    await expect(db.store.apiKeys.verify(key)).resolves.toMatchObject({ name: 'dev' });
    await expect(db.store.apiKeys.create({ name: 'dev2', role: 'admin', key })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('refuses a given key of the wrong format', async () => {
    await expect(
      db.store.apiKeys.create({ name: 'dev', role: 'admin', key: 'letmein' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('lists keys without their hashes', async () => {
    const page = await db.store.apiKeys.list({ limit: 500 });
    expect(page.items.length).toBeGreaterThan(0);
    for (const info of page.items) expect(info).not.toHaveProperty('hash');
  });
});
