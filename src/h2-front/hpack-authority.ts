// Walks HPACK header blocks (RFC 7541) the way the server's decoder will, and overwrites invalid
// :authority/host characters in place with valid ones of the same encoded length.
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, walkHuffman, writeBits } from "./hpack-huffman.js";

// Names of the static table, indices 1..61 (RFC 7541 Appendix A). Only their octet lengths
// matter here (dynamic entry sizes), plus which are :authority (1) and host (38).
const STATIC_NAMES = (
  ":authority :method :method :path :path :scheme :scheme :status :status :status :status :status " +
  ":status :status accept-charset accept-encoding accept-language accept-ranges accept " +
  "access-control-allow-origin age allow authorization cache-control content-disposition " +
  "content-encoding content-language content-length content-location content-range content-type " +
  "cookie date etag expect expires from host if-match if-modified-since if-none-match if-range " +
  "if-unmodified-since last-modified link location max-forwards proxy-authenticate " +
  "proxy-authorization range referer refresh retry-after server set-cookie " +
  "strict-transport-security transfer-encoding user-agent vary via www-authenticate"
).split(" ");
const STATIC_AUTHORITY = new Set([1, 38]);
const AUTHORITY_NAMES = [Buffer.from(":authority"), Buffer.from("host")];

// Octets nghttp2 accepts in an authority (its check_authority): ALPHA DIGIT -._~ !$&'()*+,;= :@[] %.
const VALID = new Uint8Array(256);
for (const c of "-._~!$&'()*+,;=:@[]%") VALID[c.charCodeAt(0)] = 1;
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9]/.test(ch)) VALID[c] = 1;
}
const RAW_REPLACEMENT = 0x2d; // "-"

// One valid symbol per Huffman code length ("-" where it fits, else the lowest valid symbol);
// lengths with no valid symbol (12 bits, and 14 and up: "#", "{", non-ASCII, ...) are absent.
const HUFFMAN_REPLACEMENT = new Map<number, number>();
for (const sym of [RAW_REPLACEMENT, ...Array(256).keys()]) {
  const len = HUFFMAN_LENGTHS[sym] ?? 0;
  if (VALID[sym] && !HUFFMAN_REPLACEMENT.has(len)) HUFFMAN_REPLACEMENT.set(len, sym);
}

/** True if nghttp2 would accept `value` as an :authority. */
export function isValidAuthority(value: Uint8Array): boolean {
  for (const o of value) if (!VALID[o]) return false;
  return true;
}

interface Entry {
  nameLen: number;
  valueLen: number;
  authority: boolean;
}

/** A bit-range overwrite: `bitLength` bits of `code` at absolute bit offset `bit` in the block. */
type Patch = [bit: number, code: number, bitLength: number];

class MalformedBlock extends Error {}

/**
 * One connection's view of the client's HPACK encoder: it mirrors the dynamic table (sizes and
 * which entries are :authority/host) so indexed names resolve as the server's decoder resolves
 * them. After a malformed block the mirror is unreliable, so it stops rewriting for good (the
 * server answers such a block with a connection error anyway).
 */
export class HpackAuthorityFixer {
  // The table, oldest first from `head`: eviction moves `head` (O(1)); the array is compacted
  // once the evicted prefix is half of it. Array.shift() here once made one hostile block of
  // 300,000 entries take 40 s.
  private entries: Entry[] = [];
  private head = 0;
  private size = 0;
  private maxSize: number;
  private broken = false;

  /**
   * `tableSizeLimit` is the SETTINGS_HEADER_TABLE_SIZE the server advertises (nghttp2's 4096
   * unless changed). A size update above it is a decoding error (RFC 7541 §6.3) that the
   * server answers with COMPRESSION_ERROR: the mirror never follows it, it gives up instead.
   */
  constructor(private readonly tableSizeLimit = 4096) {
    this.maxSize = tableSizeLimit;
  }

  /** False once a block was malformed or over a limit: nothing is rewritten after that. */
  get tracking(): boolean {
    return !this.broken;
  }

  /** Entries in the mirrored table (for tests: never more than tableSizeLimit / 32). */
  get tableEntries(): number {
    return this.entries.length - this.head;
  }

  /** Rewrites invalid authority values in `block` in place; returns whether it changed anything. */
  fix(block: Uint8Array): boolean {
    if (this.broken) return false;
    const patches: Patch[] = [];
    try {
      this.walk(block, patches);
    } catch {
      // MalformedBlock, or any surprise: never fail the connection here; the server's own
      // decoder judges the block.
      this.broken = true;
      return false;
    }
    for (const [bit, code, len] of patches) writeBits(block, 0, bit, code, len);
    return patches.length > 0;
  }

  /** Stops rewriting for good (the caller saw the connection break a limit). */
  giveUp(): void {
    this.broken = true;
  }

  private walk(b: Uint8Array, patches: Patch[]): void {
    const cur = { p: 0 };
    while (cur.p < b.length) {
      const first = b[cur.p] ?? 0;
      if (first & 0x80) {
        this.lookup(readInt(b, cur, 7)); // indexed field: must exist, changes nothing
      } else if (first & 0x40) {
        this.literal(b, cur, 6, patches, true);
      } else if (first & 0x20) {
        const size = readInt(b, cur, 5);
        if (size > this.tableSizeLimit) throw new MalformedBlock(`table size ${size} above SETTINGS_HEADER_TABLE_SIZE`);
        this.maxSize = size;
        this.evict(0);
      } else {
        this.literal(b, cur, 4, patches, false); // without indexing / never indexed
      }
    }
  }

  private literal(b: Uint8Array, cur: { p: number }, prefix: number, patches: Patch[], index: boolean): void {
    const nameIndex = readInt(b, cur, prefix);
    let nameLen: number;
    let authority: boolean;
    if (nameIndex === 0) {
      const name = readString(b, cur);
      const octets = decodeString(b, name);
      nameLen = octets.length;
      authority = AUTHORITY_NAMES.some((n) => n.equals(octets));
    } else {
      ({ nameLen, authority } = this.lookup(nameIndex));
    }
    const value = readString(b, cur);
    const valueLen = authority ? fixValue(b, value, patches) : decodedLength(b, value);
    if (index) this.insert({ nameLen, valueLen, authority });
  }

  private lookup(index: number): Entry {
    if (index === 0) throw new MalformedBlock("index 0");
    if (index <= STATIC_NAMES.length) {
      return { nameLen: STATIC_NAMES[index - 1]?.length ?? 0, valueLen: 0, authority: STATIC_AUTHORITY.has(index) };
    }
    const at = this.entries.length - 1 - (index - STATIC_NAMES.length - 1);
    const e = at >= this.head ? this.entries[at] : undefined;
    if (!e) throw new MalformedBlock(`index ${index} beyond the dynamic table`);
    return e;
  }

  private insert(e: Entry): void {
    const size = entrySize(e);
    if (size > this.maxSize) {
      this.entries = [];
      this.head = 0;
      this.size = 0;
      return;
    }
    this.evict(size);
    this.entries.push(e);
    this.size += size;
  }

  private evict(room: number): void {
    while (this.size + room > this.maxSize && this.head < this.entries.length) {
      const e = this.entries[this.head++];
      if (e) this.size -= entrySize(e);
    }
    if (this.head > 32 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

const entrySize = (e: Entry): number => e.nameLen + e.valueLen + 32; // RFC 7541 §4.1

/** Rewrites invalid :authority/host values of one self-contained header block (fresh table). */
export function fixAuthorityInHeaderBlock(block: Buffer): boolean {
  return new HpackAuthorityFixer().fix(block);
}

// RFC 7541 §5.1 prefix integer at cur.p; advances cur.p. Values past 2^28 are not plausible here.
function readInt(b: Uint8Array, cur: { p: number }, prefix: number): number {
  const max = (1 << prefix) - 1;
  let v = (b[cur.p++] ?? 0) & max;
  if (v < max) return v;
  for (let shift = 0; shift <= 21; shift += 7) {
    if (cur.p >= b.length) throw new MalformedBlock("integer cut");
    const o = b[cur.p++] ?? 0;
    v += (o & 0x7f) * 2 ** shift;
    if (!(o & 0x80)) return v;
  }
  throw new MalformedBlock("integer too large");
}

interface StringRef {
  start: number;
  end: number;
  huffman: boolean;
}

function readString(b: Uint8Array, cur: { p: number }): StringRef {
  if (cur.p >= b.length) throw new MalformedBlock("string cut");
  const huffman = ((b[cur.p] ?? 0) & 0x80) !== 0;
  const len = readInt(b, cur, 7);
  const start = cur.p;
  if (start + len > b.length) throw new MalformedBlock("string longer than the block");
  cur.p = start + len;
  return { start, end: start + len, huffman };
}

function decodeString(b: Uint8Array, s: StringRef): Buffer {
  if (!s.huffman) return Buffer.from(b.subarray(s.start, s.end));
  const out: number[] = [];
  if (!walkHuffman(b, s.start, s.end, (sym) => out.push(sym))) throw new MalformedBlock("bad huffman");
  return Buffer.from(out);
}

function decodedLength(b: Uint8Array, s: StringRef): number {
  if (!s.huffman) return s.end - s.start;
  let n = 0;
  if (!walkHuffman(b, s.start, s.end, () => n++)) throw new MalformedBlock("bad huffman");
  return n;
}

// Queues patches that make an authority value valid and returns its decoded length. A Huffman
// value with an invalid symbol that has no same-length valid stand-in is left whole.
function fixValue(b: Uint8Array, s: StringRef, patches: Patch[]): number {
  if (!s.huffman) {
    for (let i = s.start; i < s.end; i++) {
      if (!VALID[b[i] ?? 0]) patches.push([i * 8, RAW_REPLACEMENT, 8]);
    }
    return s.end - s.start;
  }
  const mine: Patch[] = [];
  let fixable = true;
  let n = 0;
  const ok = walkHuffman(b, s.start, s.end, (sym, bit, len) => {
    n++;
    if (VALID[sym]) return;
    const r = HUFFMAN_REPLACEMENT.get(len);
    if (r === undefined) fixable = false;
    else mine.push([s.start * 8 + bit, HUFFMAN_CODES[r] ?? 0, len]);
  });
  if (!ok) throw new MalformedBlock("bad huffman");
  if (fixable) patches.push(...mine);
  return n;
}
