import { Writable } from 'node:stream';
import { Header, Pax } from 'tar';
import { ArchiveError } from './errors.js';
import { checkSymlinkTarget, splitEntryPath, TreeModel } from './paths.js';
import { type FileSink, TreeWriter } from './tree-writer.js';

export interface ExtractLimits {
  /** Total bytes of entry bodies (files and metadata) the archive may declare. */
  readonly maxBytes: number;
  readonly maxEntries: number;
}

export const DEFAULT_LIMITS: ExtractLimits = { maxBytes: 16 * 1024 ** 3, maxEntries: 200_000 };

export interface ExtractStats {
  readonly entries: number;
  readonly files: number;
  /** File body bytes written to disk. */
  readonly bytes: number;
}

const BLOCK = 512;
/** A pax or GNU long-name body larger than this is not a real archive's metadata. */
const MAX_META = 1024 * 1024;
/** Queue at most this much file data before pausing the decompressor. */
const HIGH_WATER = 16 * 1024 * 1024;
const LOW_WATER = 4 * 1024 * 1024;

type Body =
  | { readonly kind: 'file'; readonly sink: FileSink }
  | { readonly kind: 'meta'; readonly type: string; readonly chunks: Buffer[] }
  | { readonly kind: 'skip' };

/**
 * A tar stream parser and writer in one Writable: headers are decoded with node-tar's `Header`
 * (checksums, base-256 sizes, ustar prefixes, pax overrides) and every entry is checked before
 * anything is created; bodies go straight to the `TreeWriter`. Limits are enforced on the
 * declared sizes as each header arrives, so a bomb is refused before its bytes are inflated.
 * Emits `'eof'` at the end-of-archive blocks; what follows is ignored (and need not be inflated).
 */
export class TarExtractor extends Writable {
  readonly #limits: ExtractLimits;
  readonly #model = new TreeModel();
  readonly writer: TreeWriter;
  #header = Buffer.alloc(BLOCK);
  #headerFill = 0;
  #remaining = 0;
  #padding = 0;
  #body: Body = { kind: 'skip' };
  #zeroBlocks = 0;
  #eof = false;
  #ex: Pax | undefined;
  #gex: Pax | undefined;
  #longPath: string | undefined;
  #longLink: string | undefined;
  #entries = 0;
  #files = 0;
  #declared = 0;

  constructor(root: string, limits: ExtractLimits = DEFAULT_LIMITS) {
    super({ highWaterMark: 1024 * 1024 });
    this.#limits = limits;
    this.writer = new TreeWriter(root);
    this.writer.onFailure = (error) => this.destroy(error);
  }

  get ended(): boolean {
    return this.#eof;
  }

  get stats(): ExtractStats {
    return { entries: this.#entries, files: this.#files, bytes: this.writer.bytesWritten };
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.#consume(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (this.writer.pendingBytes <= HIGH_WATER) callback();
    else this.writer.whenBelow(LOW_WATER).then(() => callback(this.writer.failure));
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#eof && (this.#remaining > 0 || this.#padding > 0 || this.#headerFill > 0)) {
      callback(new ArchiveError('E_ARCHIVE_FORMAT', 'archive is truncated (it ends inside an entry)'));
      return;
    }
    this.writer.settle().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.writer.stop().then(() => callback(error));
  }

  #consume(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.#eof) {
      if (this.#remaining > 0) {
        const n = Math.min(this.#remaining, chunk.length - pos);
        this.#onBody(chunk.subarray(pos, pos + n));
        pos += n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#endBody();
      } else if (this.#padding > 0) {
        const n = Math.min(this.#padding, chunk.length - pos);
        pos += n;
        this.#padding -= n;
      } else if (this.#headerFill === 0 && chunk.length - pos >= BLOCK) {
        this.#onHeader(chunk.subarray(pos, pos + BLOCK));
        pos += BLOCK;
      } else {
        const n = Math.min(BLOCK - this.#headerFill, chunk.length - pos);
        chunk.copy(this.#header, this.#headerFill, pos, pos + n);
        this.#headerFill += n;
        pos += n;
        if (this.#headerFill === BLOCK) {
          this.#headerFill = 0;
          this.#onHeader(this.#header);
        }
      }
    }
  }

  #onBody(slice: Buffer): void {
    const body = this.#body;
    if (body.kind === 'file') body.sink.write(slice);
    else if (body.kind === 'meta') body.chunks.push(Buffer.from(slice));
  }

  #endBody(): void {
    const body = this.#body;
    this.#body = { kind: 'skip' };
    if (body.kind === 'file') body.sink.end();
    else if (body.kind === 'meta') this.#onMeta(body.type, Buffer.concat(body.chunks));
  }

  #onMeta(type: string, data: Buffer): void {
    if (type === 'x') this.#ex = Pax.parse(data.toString('utf8'), this.#ex, false);
    else if (type === 'g') this.#gex = Pax.parse(data.toString('utf8'), this.#gex, true);
    else {
      // GNU long names are NUL-terminated.
      const end = data.indexOf(0);
      const text = data.toString('utf8', 0, end === -1 ? data.length : end);
      if (type === 'L') this.#longPath = text;
      else this.#longLink = text;
    }
  }

  #startBody(size: number, body: Body): void {
    this.#remaining = size;
    this.#padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.#body = body;
    if (size === 0) this.#endBody();
  }

  #budget(size: number, raw: string): void {
    this.#declared += size;
    if (this.#declared > this.#limits.maxBytes) {
      throw new ArchiveError(
        'E_ARCHIVE_TOO_LARGE',
        `archive declares more than the ${this.#limits.maxBytes}-byte limit (at ${this.#declared} bytes)`,
        raw,
      );
    }
  }

  #onHeader(block: Buffer): void {
    const h = new Header(block, 0, this.#ex, this.#gex);
    if (h.nullBlock) {
      this.#zeroBlocks += 1;
      if (this.#zeroBlocks >= 2) {
        this.#eof = true;
        this.emit('eof');
      }
      return;
    }
    this.#zeroBlocks = 0;
    if (!h.cksumValid) throw new ArchiveError('E_ARCHIVE_FORMAT', 'not a tar archive (bad header checksum)');
    const type = block.toString('latin1', 156, 157).replace('\0', '');
    const size = h.size ?? 0;
    this.#entries += 1;
    if (this.#entries > this.#limits.maxEntries) {
      throw new ArchiveError(
        'E_ARCHIVE_TOO_LARGE',
        `archive has more than ${this.#limits.maxEntries} entries`,
      );
    }
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META)
        throw new ArchiveError('E_ARCHIVE_FORMAT', `oversized ${type} metadata entry (${size} bytes)`);
      this.#budget(size, h.path ?? '');
      this.#startBody(size, { kind: 'meta', type, chunks: [] });
      return;
    }
    const raw = this.#longPath ?? h.path ?? '';
    const linkpath = this.#longLink ?? h.linkpath ?? '';
    this.#ex = undefined;
    this.#longPath = undefined;
    this.#longLink = undefined;
    this.#startBody(size, this.#entry(type, raw, linkpath, size, h));
  }

  #entry(type: string, raw: string, linkpath: string, size: number, h: Header): Body {
    if (type === '3' || type === '4')
      throw new ArchiveError('E_ARCHIVE_UNSAFE', 'device file in archive', raw);
    if (type === '6') throw new ArchiveError('E_ARCHIVE_UNSAFE', 'FIFO in archive', raw);
    const parts = splitEntryPath(raw);
    const rel = parts.join('/');
    const parent = parts.slice(0, -1).join('/');
    this.#budget(size, raw);
    switch (type) {
      case '':
      case '0':
      case '7': {
        if (rel === '') throw new ArchiveError('E_ARCHIVE_UNSAFE', 'file entry for the release root', raw);
        const replace = this.#model.claim(parts, 'file', raw);
        this.#files += 1;
        return { kind: 'file', sink: this.writer.file(rel, parent, h.mode ?? 0o644, h.mtime, replace) };
      }
      case '5':
        if (rel !== '') {
          this.#model.claim(parts, 'dir', raw);
          this.writer.dir(rel, h.mode ?? 0o755);
        }
        return { kind: 'skip' };
      case '2': {
        checkSymlinkTarget(parts, linkpath, raw);
        const replace = this.#model.claim(parts, 'symlink', raw);
        this.writer.symlink(rel, parent, linkpath, replace);
        return { kind: 'skip' };
      }
      case '1': {
        const target = splitEntryPath(linkpath).join('/');
        if (this.#model.kindOf(target) !== 'file') {
          throw new ArchiveError(
            'E_ARCHIVE_UNSAFE',
            `hardlink to ${linkpath}, which is not a file extracted before it`,
            raw,
          );
        }
        if (target === rel) throw new ArchiveError('E_ARCHIVE_UNSAFE', 'hardlink to itself', raw);
        const replace = this.#model.claim(parts, 'file', raw);
        this.writer.link(rel, parent, target, replace);
        return { kind: 'skip' };
      }
      default:
        throw new ArchiveError('E_ARCHIVE_FORMAT', `unsupported tar entry type '${type}'`, raw);
    }
  }
}
