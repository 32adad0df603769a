import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { deriveAgentSecret, deriveSessionKeys, generateAgentSecret, handshakeTranscript } from './auth.js';
import { EXAMPLE, EXAMPLE_BEGIN, EXAMPLE_END, renderExample } from './example.js';
import { encodeLegacyJob, legacyAnswer } from './legacy.js';

const readme = await readFile(new URL('./README.md', import.meta.url), 'utf8');

/** Only what README.md says, with node:crypto: a second, independent reading of the spec. */
const lp = (value: string | Buffer) => {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};

describe('protocol/README.md', () => {
  it('holds the worked example exactly as the code produces it', () => {
    const section = readme.slice(
      readme.indexOf(EXAMPLE_BEGIN) + EXAMPLE_BEGIN.length,
      readme.indexOf(EXAMPLE_END),
    );
    // On mismatch: npx tsx -e "import('./protocol/example.ts').then((m) => m.writeExampleIntoReadme())"
    expect(section.trim()).toBe(renderExample());
  });

  it('describes the transcript, proofs and keys precisely enough to recompute them', () => {
    // Prepare
    const { secret, hostId, clientId, clientNonce, serverNonce } = EXAMPLE;
    const key = Buffer.from(secret, 'utf8');
    const t = Buffer.concat([
      lp('gsm-agent-protocol'),
      Buffer.from([2]),
      lp(hostId),
      lp(clientId),
      lp(clientNonce),
      lp(serverNonce),
    ]);

    // Act
    const serverProof = createHmac('sha256', key).update(lp('gsm/2 server proof')).update(t).digest('hex');
    const clientProof = createHmac('sha256', key).update(lp('gsm/2 client proof')).update(t).digest('hex');
    const salt = Buffer.concat([clientNonce, serverNonce]);
    const hkdf = (label: string) =>
      Buffer.from(hkdfSync('sha256', key, salt, Buffer.concat([lp(label), t]), 32)).toString('hex');
    const readyPayload = Buffer.from('{"version":2}');
    const readyTag = createHmac('sha256', Buffer.from(hkdf('gsm/2 key server->client'), 'hex'))
      .update(Buffer.alloc(8))
      .update(Buffer.from([0x04]))
      .update(readyPayload)
      .digest('hex');

    // Assess
    const transcript = { version: 2, hostId, clientId, clientNonce, serverNonce };
    expect(handshakeTranscript(transcript).equals(t)).toBe(true);
    const keys = deriveSessionKeys(secret, transcript);
    expect(keys.clientToServer.toString('hex')).toBe(hkdf('gsm/2 key client->server'));
    expect(keys.serverToClient.toString('hex')).toBe(hkdf('gsm/2 key server->client'));
    const example = renderExample();
    expect(example).toContain(`server proof  ${serverProof}`);
    expect(example).toContain(`client proof  ${clientProof}`);
    expect(example).toContain(`tag      ${readyTag}`);
  });

  it('gives the legacy example bytes the code sends', () => {
    expect(encodeLegacyJob(4242, 'st').toString('hex')).toBe('000100001092000000027374');
    expect(readme).toContain('`0001 00001092 00000002 7374`');
    const nonce = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcd';
    expect(legacyAnswer('k', nonce)).toBe(
      createHash('md5').update('kABCDEFGHIJKLMNOPQRST').digest('hex').slice(10),
    );
  });
});

describe('agent secrets', () => {
  it('generates 32 random bytes as base64url', () => {
    const secret = generateAgentSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(generateAgentSecret()).not.toBe(secret);
  });

  it('derives a stable, host-specific secret from a master secret as documented', () => {
    const master = 'master-secret-0123456789abcdef';
    const expected = createHmac('sha256', master)
      .update('gsm agent secret v1\u0000host-1')
      .digest('base64url');
    expect(deriveAgentSecret(master, 'host-1')).toBe(expected);
    expect(deriveAgentSecret(master, 'host-2')).not.toBe(expected);
  });

  it('refuses a secret shorter than 16 bytes', () => {
    expect(() => deriveAgentSecret('short', 'host-1')).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
