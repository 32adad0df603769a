import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptSessions, connectAgent, type SessionListener } from './connect.js';
import type { Message } from './messages.js';
import type { Session } from './session.js';
import { certificateFingerprint, normalizeFingerprint } from './tls.js';

const SECRET = 'tls-test-secret-0123456789abcdef';
const HOST = 'host-tls';

/** A throwaway self-signed certificate, made fresh for this run. */
const makeCertificate = async (dir: string, name: string) => {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
};

describe('TLS', () => {
  let dir: string;
  let agentCert: { cert: string; key: string };
  let otherCert: { cert: string; key: string };
  let listener: SessionListener;
  const sessions: Session[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gsm-protocol-tls-'));
    [agentCert, otherCert] = await Promise.all([
      makeCertificate(dir, 'agent'),
      makeCertificate(dir, 'other'),
    ]);
    listener = await acceptSessions(
      { host: '127.0.0.1', port: 0, tls: agentCert },
      { secretsFor: () => [SECRET], onSession: (session) => sessions.push(session) },
    );
  });

  afterAll(async () => {
    await listener?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const connect = (tls: Parameters<typeof connectAgent>[0]['tls']) =>
    connectAgent({
      host: '127.0.0.1',
      port: listener.port,
      hostId: HOST,
      clientId: 'relay-1',
      secret: SECRET,
      timeoutMs: 5000,
      tls,
    });

  it('runs the protocol over TLS when the fingerprint pin matches', async () => {
    // Prepare
    const pin = certificateFingerprint(agentCert.cert);

    // Act
    const client = await connect({ fingerprint256: pin.replaceAll(':', '').toLowerCase() });
    await client.send({ type: 'STATUS' });
    const server = sessions.at(-1)!;
    let received: Message | undefined;
    for await (const message of server) {
      received = message;
      break;
    }
    await client.close();

    // Assess
    expect(received).toEqual({ type: 'STATUS' });
  });

  it('refuses an agent whose certificate does not match the pin', async () => {
    await expect(connect({ fingerprint256: certificateFingerprint(otherCert.cert) })).rejects.toMatchObject({
      code: 'E_TLS',
      message: expect.stringContaining('does not match the pinned fingerprint'),
    });
  });

  it('accepts an agent certificate that chains to the pinned CA', async () => {
    const client = await connect({ ca: agentCert.cert });
    await client.close();
  });

  it('refuses an agent certificate that does not chain to the pinned CA', async () => {
    await expect(connect({ ca: otherCert.cert })).rejects.toMatchObject({ code: 'E_TLS' });
  });

  it('refuses TLS without a pin', async () => {
    await expect(connect({})).rejects.toMatchObject({ code: 'E_CONFIG' });
  });

  it('fails cleanly when a plain client reaches a TLS agent', async () => {
    await expect(
      connectAgent({
        host: '127.0.0.1',
        port: listener.port,
        hostId: HOST,
        clientId: 'relay-1',
        secret: SECRET,
        timeoutMs: 1000,
      }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^E_(CLOSED|TIMEOUT|BAD_FRAME|FRAME_TOO_LARGE|UNKNOWN_TYPE)$/),
    });
  });

  it('normalizes fingerprints written with or without colons', () => {
    expect(normalizeFingerprint('ab'.repeat(32))).toBe(Array(32).fill('AB').join(':'));
    expect(() => normalizeFingerprint('abc')).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
