/**
 * Where objects live in the packages bucket, and how an object key tells what it is.
 * Shared by the API (which hands out upload keys), the trigger (which classifies what
 * arrived) and the intake workflow.
 */

/** Packages uploaded through the API and the CLI: `uploads/<packageId>/<file>`. */
export const UPLOAD_PREFIX = 'uploads/';
/** Build-pipeline drops, registered without the CLI: `incoming/<game>/<version>/<file>`. */
export const INCOMING_PREFIX = 'incoming/';
/** A `<file>.sha256` beside a dropped file declares its hash. */
export const SHA256_SIDECAR_SUFFIX = '.sha256';

export const uploadKey = (packageId: string, fileName: string, prefix: string = UPLOAD_PREFIX): string =>
  `${prefix}${packageId}/${fileName}`;

export const incomingKey = (game: string, version: string, fileName: string): string =>
  `${INCOMING_PREFIX}${game}/${version}/${fileName}`;

export type ObjectKeyKind =
  | { readonly kind: 'upload'; readonly packageId: string; readonly fileName: string }
  | {
      readonly kind: 'incoming';
      readonly game: string;
      readonly version: string;
      readonly fileName: string;
    }
  | {
      readonly kind: 'sidecar';
      readonly game: string;
      readonly version: string;
      readonly fileName: string;
      /** The file whose hash this sidecar declares. */
      readonly forFileName: string;
    }
  | { readonly kind: 'other' };

/**
 * Structure only: names are not validated here, so that a badly named drop still reaches
 * intake and ends `rejected` with a reason instead of vanishing. Empty segments and extra
 * depth do not match a layout and come back as `other`.
 */
export const classifyObjectKey = (
  key: string,
  prefixes: { readonly upload?: string; readonly incoming?: string } = {},
): ObjectKeyKind => {
  const uploadPrefix = prefixes.upload ?? UPLOAD_PREFIX;
  const incomingPrefix = prefixes.incoming ?? INCOMING_PREFIX;
  if (key.startsWith(uploadPrefix)) {
    const parts = key.slice(uploadPrefix.length).split('/');
    const [packageId, fileName] = parts;
    if (parts.length === 2 && packageId && fileName) return { kind: 'upload', packageId, fileName };
    return { kind: 'other' };
  }
  if (key.startsWith(incomingPrefix)) {
    const parts = key.slice(incomingPrefix.length).split('/');
    const [game, version, fileName] = parts;
    if (parts.length !== 3 || !game || !version || !fileName) return { kind: 'other' };
    if (fileName.endsWith(SHA256_SIDECAR_SUFFIX) && fileName.length > SHA256_SIDECAR_SUFFIX.length) {
      const forFileName = fileName.slice(0, -SHA256_SIDECAR_SUFFIX.length);
      return { kind: 'sidecar', game, version, fileName, forFileName };
    }
    return { kind: 'incoming', game, version, fileName };
  }
  return { kind: 'other' };
};

/**
 * S3 notifications carry keys URL-encoded the way HTML forms are (space as `+`, `+` as
 * `%2B`, UTF-8 percent-escapes) with `/` left as is. Emulators encode with this and
 * consumers decode with `decodeEventKey`, so a key with spaces, plus signs or non-ASCII
 * letters survives the round trip.
 */
export const encodeEventKey = (key: string): string =>
  new URLSearchParams({ k: key }).toString().slice(2).replace(/%2F/g, '/');

/** Throws URIError on a malformed escape; callers turn that into a validation error. */
export const decodeEventKey = (encoded: string): string => decodeURIComponent(encoded.replace(/\+/g, ' '));
