// Builders for HPACK representations and HTTP/2 frames, shared by the :authority rewriter tests,
// plus one real client-to-server byte stream recorded from crictl 1.26.1 (grpc-go 1.51).
import { huffmanEncode, walkHuffman } from "../../../src/h2-front/hpack-huffman.js";

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** RFC 7541 §5.1 integer with `prefix` bits, the high bits of the first byte set to `flags`. */
export function hpackInt(value: number, prefix: number, flags = 0): Buffer {
  const max = (1 << prefix) - 1;
  if (value < max) return Buffer.from([flags | value]);
  const out = [flags | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function hpackString(value: string | Buffer, huffman: boolean): Buffer {
  const raw = typeof value === "string" ? Buffer.from(value, "latin1") : value;
  const bytes = huffman ? huffmanEncode(raw) : raw;
  return Buffer.concat([hpackInt(bytes.length, 7, huffman ? 0x80 : 0), bytes]);
}

export type LiteralKind = "incremental" | "without" | "never";

/** A literal field: `name` is a table index or a literal name. */
export function literal(name: number | string, value: string | Buffer, huffman: boolean, kind: LiteralKind = "incremental"): Buffer {
  const [prefix, flags] = kind === "incremental" ? [6, 0x40] : kind === "never" ? [4, 0x10] : [4, 0x00];
  const head =
    typeof name === "number"
      ? hpackInt(name, prefix, flags)
      : Buffer.concat([hpackInt(0, prefix, flags), hpackString(name, huffman)]);
  return Buffer.concat([head, hpackString(value, huffman)]);
}

export const indexed = (i: number): Buffer => hpackInt(i, 7, 0x80);
export const sizeUpdate = (n: number): Buffer => hpackInt(n, 5, 0x20);

export function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

export const HEADERS = 0x1;
export const CONTINUATION = 0x9;
export const DATA = 0x0;
export const END_STREAM = 0x1;
export const END_HEADERS = 0x4;
export const PADDED = 0x8;
export const PRIORITY = 0x20;

export function huffmanDecode(b: Buffer): string {
  const out: number[] = [];
  if (!walkHuffman(b, 0, b.length, (s) => out.push(s))) throw new Error(`bad huffman ${b.toString("hex")}`);
  return Buffer.from(out).toString("latin1");
}

/**
 * Everything crictl 1.26.1 wrote on one connection for `crictl --runtime-endpoint
 * unix:///tmp/h2x/b.sock stopp a b c`: preface, SETTINGS, WINDOW_UPDATE, four requests (Version,
 * then StopPodSandbox a, b, c). The first request adds `:authority: /tmp/h2x/b.sock` (Huffman)
 * to the dynamic table; the next ones refer to it by index.
 */
export const CRICTL_STOPP = Buffer.from(
  "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a0000000400000000000000000401000000000000740104000000018386" +
    "459962cb6a49a92afdc2bedb6a49a92ee2d9dcc42b1c4b620c7abf418b6134d6c4e2f2c46ba0e4eb5f8b1d75d0620d263d4c4d65" +
    "647a8a9acac8b4c7602bb615c140027465864d833505b11f408e9acac8b0c842d6958b510f21aa9b839bd9ab40899acac8b24d49" +
    "4f6a7f8613efb8e340b700000500010000000100000000000000040800000000000000001a00000806000000000002041010090e" +
    "07070000300104000000038386459e62cb6a49a92afdc2bedb6a49a92ee2d9dcc42b1b927af59e4dc3aa48cfe7c4c3c2c1c07f00" +
    "8613efbefbc1b700000800010000000300000000030a01610000040800000000000000000500000806000000000002041010090e" +
    "07070000100104000000058386bfc5c4c3c2c17e8613efbefbcfdb00000800010000000500000000030a01620000040800000000" +
    "000000000500000806000000000002041010090e07070000090104000000078386c0c6c5c4c3c2be00000800010000000700000000" +
    "030a01630000040800000000000000000500000806000000000002041010090e0707",
  "hex",
);
export const CRICTL_STOPP_AUTHORITY = "/tmp/h2x/b.sock";
