import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { ProtocolError } from './errors.js';

/** The agent's certificate and key (PEM). */
export interface TlsServerOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/**
 * The client always pins: a CA (the agent's certificate must chain to it and match the host
 * name), or the SHA-256 fingerprint of the agent's certificate (hex, colons optional), or both.
 */
export interface TlsClientOptions {
  readonly ca?: string | Buffer;
  readonly fingerprint256?: string;
  /** Name to check the certificate against when pinning a CA; defaults to the host. */
  readonly servername?: string;
}

/** `AB:CD:…` upper-case, the form Node reports in `fingerprint256`. */
export const normalizeFingerprint = (fingerprint: string): string => {
  const hex = fingerprint.replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new ProtocolError('E_CONFIG', 'a certificate fingerprint is 32 bytes of SHA-256 in hex');
  }
  return hex.match(/../g)!.join(':');
};

/** The fingerprint a client pins, computed from the agent's PEM certificate. */
export const certificateFingerprint = (certPem: string | Buffer): string =>
  new X509Certificate(certPem).fingerprint256;

const pinnedOptions = (host: string, options: TlsClientOptions): tls.ConnectionOptions => {
  if (options.ca === undefined && options.fingerprint256 === undefined) {
    throw new ProtocolError('E_CONFIG', 'TLS needs a pinned CA or certificate fingerprint');
  }
  const pin = options.fingerprint256 === undefined ? undefined : normalizeFingerprint(options.fingerprint256);
  if (options.ca !== undefined) {
    return {
      ca: options.ca,
      servername: net.isIP(options.servername ?? host) ? undefined : (options.servername ?? host),
      rejectUnauthorized: true,
      checkServerIdentity: (hostname, cert) => {
        const identityError = tls.checkServerIdentity(options.servername ?? hostname, cert);
        if (identityError) return identityError;
        if (pin !== undefined && cert.fingerprint256 !== pin)
          return new Error('certificate fingerprint mismatch');
        return undefined;
      },
    };
  }
  // A self-signed agent certificate has no chain to check: the fingerprint is the whole trust.
  return { rejectUnauthorized: false };
};

/** Opens a plain or pinned-TLS socket; resolves once it is connected (and the TLS handshake done). */
export const openSocket = (
  host: string,
  port: number,
  options: TlsClientOptions | undefined,
): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    if (options === undefined) {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error) =>
        reject(
          new ProtocolError('E_CLOSED', `cannot connect to ${host}:${port}: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      return;
    }
    const pin =
      options.fingerprint256 === undefined ? undefined : normalizeFingerprint(options.fingerprint256);
    const socket = tls.connect({ host, port, ...pinnedOptions(host, options) });
    socket.once('secureConnect', () => {
      socket.removeAllListeners('error');
      const presented = socket.getPeerCertificate().fingerprint256;
      if (pin !== undefined && presented !== pin) {
        socket.destroy();
        reject(
          new ProtocolError('E_TLS', `agent certificate ${presented} does not match the pinned fingerprint`),
        );
        return;
      }
      resolve(socket);
    });
    socket.once('error', (error) =>
      reject(new ProtocolError('E_TLS', `TLS to ${host}:${port} failed: ${error.message}`, { cause: error })),
    );
  });

/** A TCP or TLS server that hands over each connection once it is ready for protocol bytes. */
export const createSocketServer = (
  options: TlsServerOptions | undefined,
  handshakeTimeoutMs: number,
  onSocket: (socket: net.Socket) => void,
): net.Server => {
  if (options === undefined) return net.createServer({ noDelay: true }, onSocket);
  const server = tls.createServer(
    { cert: options.cert, key: options.key, minVersion: 'TLSv1.2', handshakeTimeout: handshakeTimeoutMs },
    onSocket,
  );
  // A failed TLS handshake is the peer's problem; it must not become an unhandled error.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  return server;
};
