// The tar that makes a layer's device nodes and FIFOs in one `tar -x` process instead of one
// mknod each (Node has no mknod(2); tar, essential on Debian, makes many nodes in one go).

export interface NodeToMake {
  /** Cleaned, root-relative path whose parents are real directories (LayerTree's invariant). */
  rel: string;
  type: "char" | "block" | "fifo";
  major: number;
  minor: number;
}

const TYPEFLAG = { char: "3", block: "4", fifo: "6" } as const;

function octal(h: Buffer, at: number, width: number, n: number): void {
  h.write(n.toString(8).padStart(width - 1, "0") + "\0", at, "latin1");
}

/** One ustar header block (name ≤ 100 bytes; longer names go in a PAX record before it). */
function header(name: Buffer, typeflag: string, size: number, major: number, minor: number): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(100, name.length));
  octal(h, 100, 8, 0o600);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0);
  h.write(typeflag, 156, "latin1");
  h.write("ustar\u000000", 257, "latin1");
  octal(h, 329, 8, major);
  octal(h, 337, 8, minor);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return h;
}

/** A PAX extended header ('x') carrying the full path. */
function paxPath(name: Buffer): Buffer[] {
  const rest = Buffer.concat([Buffer.from(" path="), name, Buffer.from("\n")]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  const body = Buffer.concat([Buffer.from(String(len)), rest]);
  return [header(Buffer.from("././@PaxHeader"), "x", body.length, 0, 0), body, Buffer.alloc((512 - (body.length % 512)) % 512)];
}

/** The tar that makes `nodes` (mode 0600, owner root: the caller sets the real attributes). */
export function nodesTar(nodes: readonly NodeToMake[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of nodes) {
    const name = Buffer.from(n.rel);
    if (name.length > 100) parts.push(...paxPath(name));
    parts.push(header(name, TYPEFLAG[n.type], 0, n.major, n.minor));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
