import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Package } from '../../../core/model/index.js';
import { startTestApi, type TestApi } from '../../../test/helpers/api.js';
import { MIN_PART_SIZE, partSizeFor } from '../uploads.js';

let api: TestApi;
let created = 0;

beforeAll(async () => {
  api = await startTestApi();
  await api.store.games.create({ name: 'demo', queryProtocol: 'q3a', defaultPort: 28960 });
});
afterAll(async () => api.close());

const call = (path: string, init: { method?: string; key?: string | null; body?: unknown } = {}) => {
  const headers: Record<string, string> = {};
  const key = init.key === undefined ? api.keys.operator : init.key;
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return api.app.request(`http://localhost${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
};

interface UploadView {
  uploadId: string;
  partSize: number;
  partCount: number;
  uploaded: { partNumber: number; size: number; etag: string }[];
  urls: { partNumber: number; url: string }[];
  nextPart: number | null;
}

const SIZE = MIN_PART_SIZE + 1024 * 1024 + 17;

/** A fresh version each time, and its bytes. */
const begin = async (size = SIZE, extra: Record<string, unknown> = {}) => {
  const version = `1.0.${created++}`;
  const bytes = randomBytes(size);
  const res = await call('/v1/packages', {
    method: 'POST',
    body: { game: 'demo', version, fileName: 'demo.tar.gz', size, ...extra },
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { package: Package; upload: UploadView };
  return { ...body, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
};

const putPart = async (upload: UploadView, bytes: Buffer, partNumber: number) => {
  const url = upload.urls.find((u) => u.partNumber === partNumber)?.url;
  if (!url) throw new Error(`no url for part ${partNumber}`);
  const slice = bytes.subarray((partNumber - 1) * upload.partSize, partNumber * upload.partSize);
  const res = await fetch(url, { method: 'PUT', body: slice as Uint8Array<ArrayBuffer> });
  expect(res.status).toBe(200);
  return { partNumber, etag: res.headers.get('etag') ?? '' };
};

describe('POST /v1/packages', () => {
  it('creates an uploading package and presigned URLs for every part', async () => {
    const { package: pkg, upload } = await begin();

    expect(pkg).toMatchObject({
      id: `demo@${pkg.version}`,
      state: 'uploading',
      s3Key: `uploads/demo@${pkg.version}/demo.tar.gz`,
      uploadId: upload.uploadId,
      partSize: MIN_PART_SIZE,
    });
    expect(upload).toMatchObject({ partCount: 2, uploaded: [], nextPart: null });
    expect(upload.urls.map((u) => u.partNumber)).toEqual([1, 2]);
  });

  it.each([
    { case: 'a version with ..', body: { version: '1..2' }, path: 'version' },
    { case: 'a version with /', body: { version: '1/2' }, path: 'version' },
    { case: 'a 65-character version', body: { version: 'v'.repeat(65) }, path: 'version' },
    { case: 'a file name with ..', body: { fileName: 'a..tar' }, path: 'fileName' },
    { case: 'a file name with /', body: { fileName: 'x/y.tar' }, path: 'fileName' },
    { case: 'a file name with a control character', body: { fileName: 'a\u0007.tar' }, path: 'fileName' },
    { case: 'a 300-character file name', body: { fileName: `${'a'.repeat(296)}.tar` }, path: 'fileName' },
    { case: 'a zero size', body: { size: 0 }, path: 'size' },
    { case: 'a bad sha256', body: { sha256: 'abc' }, path: 'sha256' },
    { case: 'an unknown game', body: { game: 'nosuchgame' }, path: 'game' },
  ])('refuses $case with 400 and registers nothing', async ({ body, path }) => {
    const version = `bad-${created++}`;
    const res = await call('/v1/packages', {
      method: 'POST',
      body: { game: 'demo', version, fileName: 'demo.tar.gz', size: 10, ...body },
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: 'E_VALIDATION',
      issues: [expect.objectContaining({ path })],
    });
    expect((await call(`/v1/packages/demo@${version}`)).status).toBe(404);
  });

  it('refuses a second upload of the same game and version with 409', async () => {
    const { package: pkg } = await begin();

    const res = await call('/v1/packages', {
      method: 'POST',
      body: { game: 'demo', version: pkg.version, fileName: 'other.tar.gz', size: 5 },
    });

    expect(res.status).toBe(409);
  });

  it('refuses a viewer with 403 and no key with 401', async () => {
    const body = { game: 'demo', version: '9.9.9', fileName: 'a.tar', size: 1 };
    expect((await call('/v1/packages', { method: 'POST', body, key: api.keys.viewer })).status).toBe(403);
    expect((await call('/v1/packages', { method: 'POST', body, key: null })).status).toBe(401);
  });

  it('chooses parts of at least 8 MiB and never more than 10,000 of them', () => {
    expect(partSizeFor(1)).toBe(MIN_PART_SIZE);
    expect(partSizeFor(80_000 * 1024 * 1024)).toBe(MIN_PART_SIZE);
    const huge = 200 * 1024 ** 3;
    expect(Math.ceil(huge / partSizeFor(huge))).toBeLessThanOrEqual(10_000);
  });
});

describe('GET /v1/packages/:id/upload', () => {
  it('lists stored parts and gives URLs only for the missing ones (resume)', async () => {
    const { package: pkg, upload, bytes } = await begin();
    await putPart(upload, bytes, 1);

    const res = await call(`/v1/packages/${pkg.id}/upload`);

    expect(res.status).toBe(200);
    const status = (await res.json()) as UploadView;
    expect(status.uploaded).toEqual([{ partNumber: 1, size: MIN_PART_SIZE, etag: expect.any(String) }]);
    expect(status.urls.map((u) => u.partNumber)).toEqual([2]);
  });

  it('pages the URLs with from and limit', async () => {
    const { package: pkg } = await begin();

    const first = (await (await call(`/v1/packages/${pkg.id}/upload?limit=1`)).json()) as UploadView;
    const rest = (await (await call(`/v1/packages/${pkg.id}/upload?from=2`)).json()) as UploadView;

    expect(first.urls.map((u) => u.partNumber)).toEqual([1]);
    expect(first.nextPart).toBe(2);
    expect(rest.urls.map((u) => u.partNumber)).toEqual([2]);
  });

  it('answers 404 for an unknown package', async () => {
    expect((await call('/v1/packages/demo@0.0.0/upload')).status).toBe(404);
  });
});

describe('POST /v1/packages/:id/complete', () => {
  it('completes the object, moves the package to verifying with the hash, and is idempotent', async () => {
    const { package: pkg, upload, bytes, sha256 } = await begin();
    const parts = [await putPart(upload, bytes, 1), await putPart(upload, bytes, 2)];

    const res = await call(`/v1/packages/${pkg.id}/complete`, { method: 'POST', body: { sha256, parts } });
    const again = await call(`/v1/packages/${pkg.id}/complete`, { method: 'POST', body: { sha256 } });

    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ state: 'verifying', sha256 });
    expect(again.status).toBe(202);
    expect(await api.objects.head(pkg.s3Key)).toMatchObject({ size: SIZE });
  });

  it('refuses a missing part as a size mismatch, and keeps the upload resumable', async () => {
    const { package: pkg, upload, bytes, sha256 } = await begin();
    await putPart(upload, bytes, 1);

    const res = await call(`/v1/packages/${pkg.id}/complete`, { method: 'POST', body: { sha256 } });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: expect.stringMatching(/^size mismatch/),
      issues: [{ path: 'parts.2', message: 'part 2 is missing' }],
    });
    expect(await (await call(`/v1/packages/${pkg.id}`)).json()).toMatchObject({ state: 'uploading' });
  });

  it('refuses a last part of the wrong size', async () => {
    const { package: pkg, upload, bytes, sha256 } = await begin();
    await putPart(upload, bytes, 1);
    const url = upload.urls[1]!.url;
    await fetch(url, {
      method: 'PUT',
      body: bytes.subarray(MIN_PART_SIZE, MIN_PART_SIZE + 10) as Uint8Array<ArrayBuffer>,
    });

    const res = await call(`/v1/packages/${pkg.id}/complete`, { method: 'POST', body: { sha256 } });

    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('part 2 has 10 bytes');
  });

  it('takes a part sent twice as its last copy', async () => {
    const { package: pkg, upload, bytes, sha256 } = await begin();
    await putPart(upload, bytes, 1);
    await putPart(upload, bytes, 2);
    const second = await putPart(upload, bytes, 2);

    const res = await call(`/v1/packages/${pkg.id}/complete`, {
      method: 'POST',
      body: { sha256, parts: [second] },
    });

    expect(res.status).toBe(202);
  });

  it('refuses a completion without any declared hash', async () => {
    const { package: pkg } = await begin();
    const res = await call(`/v1/packages/${pkg.id}/complete`, { method: 'POST', body: {} });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ issues: [{ path: 'sha256' }] });
  });

  it('refuses a hash that differs from the one declared at the start', async () => {
    const { package: pkg } = await begin(SIZE, { sha256: 'a'.repeat(64) });
    const res = await call(`/v1/packages/${pkg.id}/complete`, {
      method: 'POST',
      body: { sha256: 'b'.repeat(64) },
    });
    expect(res.status).toBe(400);
  });
});

describe('DELETE /v1/packages/:id', () => {
  it('aborts an upload in progress and removes the record', async () => {
    const { package: pkg, upload, bytes } = await begin();
    await putPart(upload, bytes, 1);

    const res = await call(`/v1/packages/${pkg.id}`, { method: 'DELETE' });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: pkg.id, state: 'removed', origins: [], notes: [] });
    expect((await call(`/v1/packages/${pkg.id}`)).status).toBe(404);
    await expect(api.objects.listParts(pkg.s3Key, upload.uploadId)).rejects.toMatchObject({
      code: 'E_NOT_FOUND',
    });
  });

  it('is refused with 409 while a release uses the package', async () => {
    const { package: pkg } = await begin();
    await api.store.releases.create({
      game: 'demo',
      version: pkg.version,
      packageId: pkg.id,
      target: { hosts: ['h1'] },
      strategy: {},
    });

    const res = await call(`/v1/packages/${pkg.id}`, { method: 'DELETE' });

    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      error: expect.stringMatching(/^release 'rel-.*' \(pending\) uses/),
    });
  });

  it('is refused with 409 while a host runs that version', async () => {
    const { package: pkg } = await begin();
    await api.store.hosts.create({
      id: `runner-${created}`,
      address: '127.0.0.1',
      instances: [{ name: 'srv1', game: 'demo', port: 28960, version: pkg.version }],
    });

    const res = await call(`/v1/packages/${pkg.id}`, { method: 'DELETE' });

    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: expect.stringContaining(`runs demo ${pkg.version}`) });
  });

  it('removes a staged package and reports the origin copies it could not remove', async () => {
    // Arrange: staged to two origins; one is no longer registered, and this API has no action
    // workflow to run the other's unstage job (test/e2e/package-delete runs it for real).
    const { package: pkg } = await begin();
    await api.store.hosts.create({ id: `origin-host-${created}`, address: '127.0.0.1', role: 'origin' });
    await api.store.origins.create({
      id: `mirror-${created}`,
      baseUrl: 'http://127.0.0.1:9/',
      hostId: `origin-host-${created}`,
    });
    await api.store.packages.transition(pkg.id, 'verifying', { sha256: 'a'.repeat(64) });
    await api.store.packages.transition(pkg.id, 'verified');
    await api.store.packages.transition(pkg.id, 'staging');
    await api.store.packages.transition(pkg.id, 'staged', {
      origins: [
        { id: `mirror-${created}`, url: 'http://127.0.0.1:9/x', verified: true },
        { id: 'gone-origin', url: 'http://127.0.0.1:10/x', verified: true },
      ],
    });

    // Act
    const res = await call(`/v1/packages/${pkg.id}`, { method: 'DELETE' });

    // Assert
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: string; origins: unknown[]; notes: string[] };
    expect(body.state).toBe('removed');
    expect(body.origins).toEqual([
      {
        id: `mirror-${created}`,
        hostId: `origin-host-${created}`,
        removed: false,
        error: expect.stringMatching(/action workflow is not deployed/),
      },
      { id: 'gone-origin', removed: false, error: 'the origin is no longer registered' },
    ]);
    expect(body.notes).toHaveLength(2);
    expect((await call(`/v1/packages/${pkg.id}`)).status).toBe(404);
  });

  it('is refused with 409 while intake verifies the package, and the package is kept', async () => {
    const { package: pkg } = await begin();
    await api.store.packages.transition(pkg.id, 'verifying', { sha256: 'a'.repeat(64) });

    const res = await call(`/v1/packages/${pkg.id}`, { method: 'DELETE' });

    expect(res.status).toBe(409);
    expect(((await (await call(`/v1/packages/${pkg.id}`)).json()) as Package).state).toBe('verifying');
  });

  it('answers 404 for an unknown package and 403 for a viewer', async () => {
    expect((await call('/v1/packages/demo@0.0.0', { method: 'DELETE' })).status).toBe(404);
    expect((await call('/v1/packages/demo@0.0.0', { method: 'DELETE', key: api.keys.viewer })).status).toBe(
      403,
    );
  });
});
