// Detach keys for `berth exec -it` / `berth attach` (docker's and crictl's syntax, default
// ctrl-p,ctrl-q): parsing, and a filter over stdin bytes that holds a partial match back.
import { Transform, type TransformCallback } from "node:stream";

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/**
 * "ctrl-p,ctrl-q" → [0x10, 0x11]. Each key is one printable character or ctrl-<c> with c in
 * a-z, @, [, \, ], ^, _ (as docker's term.ToBytes). "" disables detaching.
 */
export function parseDetachKeys(spec: string): Buffer {
  if (spec === "") return Buffer.alloc(0);
  const out: number[] = [];
  for (const key of spec.split(",")) {
    const k = key.trim().toLowerCase();
    const ctrl = /^ctrl-(.)$/.exec(k);
    if (ctrl) {
      const c = ctrl[1]!;
      if (c >= "a" && c <= "z") out.push(c.charCodeAt(0) - 96);
      else if ("@[\\]^_".includes(c)) out.push(c.charCodeAt(0) - 64);
      else throw new Error(`detach key "${key}": ctrl- takes a-z, @, [, \\, ], ^ or _`);
    } else if (key.length === 1 && key.charCodeAt(0) >= 0x20 && key.charCodeAt(0) < 0x7f) {
      out.push(key.charCodeAt(0));
    } else {
      throw new Error(`detach key "${key}": expected one character or ctrl-<c> (e.g. ctrl-p,ctrl-q)`);
    }
  }
  return Buffer.from(out);
}

/**
 * Feeds stdin through the detach sequence: `push(chunk)` returns what to forward now and
 * whether the sequence completed (then the rest of the chunk is dropped). Bytes of a partial
 * match are held until the next byte shows they are not the sequence, then sent as typed.
 */
export class DetachFilter {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  push(chunk: Buffer): { forward: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detach: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // Not the sequence after all: what was held goes out as typed, then this byte is looked at afresh.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = 0;
      if (b === this.keys[0]) this.held = 1;
      else out.push(b);
      if (this.held === this.keys.length) return { forward: Buffer.from(out), detach: true };
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

/** stdin with the detach sequence taken out: `onDetach` runs once it is typed, and the stream ends. */
export class DetachStream extends Transform {
  readonly #keys: DetachFilter;
  private detached = false;

  constructor(keys: Buffer, private readonly onDetach: () => void) {
    super();
    this.#keys = new DetachFilter(keys);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.detached) return cb();
    const r = this.#keys.push(chunk);
    if (r.forward.length > 0) this.push(r.forward);
    if (r.detach) {
      this.detached = true;
      this.onDetach();
    }
    cb();
  }
}
