// Which parts of the node binary a process keeps resident: its present pages (/proc/PID/pagemap)
// attributed to the binary's symbols (`nm`), grouped by component (V8 tiers, ICU, OpenSSL, ...).
import { execFile } from "node:child_process";
import { open, readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);
const PAGE = 4096;

interface Sym {
  at: number;
  size: number;
  component: string;
}

/** Demangled symbol prefixes to components, first match wins; anything else is "other". */
const COMPONENTS: Array<[RegExp, string]> = [
  [/^v8::internal::compiler::turboshaft/, "v8 turboshaft"],
  [/^v8::internal::compiler::/, "v8 turbofan"],
  [/^v8::internal::maglev/, "v8 maglev"],
  [/^v8::internal::baseline/, "v8 sparkplug"],
  [/^v8::internal::(wasm|.*[Ww]asm)/, "v8 wasm"],
  [/^v8::internal::(Parser|ParserBase|PreParser|Scanner|Scope|DeclarationScope|interpreter)/, "v8 parser+ignition"],
  [/^v8::internal::(Heap|MarkCompact|Scavenger|MinorMark|Sweeper|Marking|Evacuat|Concurrent|MemoryAllocator|heap::)|^cppgc|^heap::/, "v8 gc"],
  [/Builtins_|embedded_blob/, "v8 builtins"],
  [/^v8::/, "v8 other"],
  [/icu_\d+::|^u(bidi|cnv|data|loc|res|str|char|case|norm|set|trie|prv)_|icudt/i, "icu"],
  [/^(node::crypto|ncrypto)/, "node crypto"],
  [/^node::http2|nghttp2/, "nghttp2"],
  [/^node::/, "node"],
  [/^(ossl_|OPENSSL_|EVP_|SSL_|BN_|EC_|RSA_|X509|ASN1|CRYPTO_|ERR_|OBJ_|PEM_|BIO_|evp_|rsa_|ec_|bn_|x509|asn1)/, "openssl"],
  [/^uv_/, "libuv"],
  [/sqlite/i, "sqlite"],
  [/simdutf|simdjson/, "simdutf/simdjson"],
];

function component(name: string): string {
  for (const [re, c] of COMPONENTS) if (re.test(name)) return c;
  return "other";
}

/** The binary's sized symbols, sorted by address (needs `nm` from binutils). */
async function symbols(binary: string): Promise<Sym[]> {
  const { stdout } = await run("nm", ["-C", "--defined-only", "-n", "-S", binary], { maxBuffer: 1 << 28 });
  const out: Sym[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) \S (.*)$/.exec(line);
    if (m) out.push({ at: Number.parseInt(m[1]!, 16), size: Number.parseInt(m[2]!, 16), component: component(m[3]!) });
  }
  return out;
}

/**
 * Resident MiB of `pid`'s node binary by component: executable pages by the symbols they hold
 * (bytes of each symbol on the page), read-only data as one row (builtin JS sources, V8's
 * snapshot and code cache, ICU data, dynamic symbols), V8's remapped builtins as their own row.
 */
export async function binaryPages(pid: number): Promise<Map<string, number>> {
  const maps = (await readFile(`/proc/${pid}/maps`, "utf8")).split("\n").map((l) => l.split(/\s+/)).filter((f) => f[5]?.endsWith("/node"));
  const binary = maps[0]?.[5];
  const out = new Map<string, number>();
  if (!binary) return out;
  const syms = await symbols(binary);
  const base = Math.min(...maps.filter((f) => f[2] === "00000000").map((f) => Number.parseInt(f[0]!.split("-")[0]!, 16)));
  // nm prints link-time addresses: the load address for a fixed-address executable, 0-based for PIE.
  const header = await open(binary, "r");
  const elf = await header.read(Buffer.alloc(2), 0, 2, 16).then((r) => r.buffer.readUInt16LE(0)).finally(() => header.close());
  const linkBase = elf === 2 ? base : 0;
  const add = (k: string, bytes: number) => out.set(k, (out.get(k) ?? 0) + bytes / (1 << 20));
  const pagemap = await open(`/proc/${pid}/pagemap`, "r");
  try {
    const entry = Buffer.alloc(8);
    for (const [range, perm, offset] of maps) {
      const [from, to] = range!.split("-").map((x) => Number.parseInt(x, 16)) as [number, number];
      // The binary is linked at `base`; a mapping elsewhere with its file offset is V8's remapped builtins.
      const remapped = from - base !== Number.parseInt(offset!, 16);
      for (let p = from; p < to; p += PAGE) {
        await pagemap.read(entry, 0, 8, (p / PAGE) * 8);
        if (!((entry.readBigUInt64LE(0) >> 63n) & 1n)) continue;
        if (remapped) add("v8 builtins (remapped)", PAGE);
        else if (!perm!.includes("x")) add(perm!.includes("w") ? "data" : "read-only data", PAGE);
        else addText(syms, p - base + linkBase, add);
      }
    }
  } finally {
    await pagemap.close();
  }
  return out;
}

function addText(syms: Sym[], page: number, add: (k: string, bytes: number) => void): void {
  let lo = 0;
  let hi = syms.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid]!.at + syms[mid]!.size <= page) lo = mid + 1;
    else hi = mid;
  }
  const held = new Map<string, number>();
  let covered = 0;
  for (let i = lo; i < syms.length && syms[i]!.at < page + PAGE; i++) {
    const bytes = Math.min(syms[i]!.at + syms[i]!.size, page + PAGE) - Math.max(syms[i]!.at, page);
    if (bytes <= 0) continue;
    held.set(syms[i]!.component, (held.get(syms[i]!.component) ?? 0) + bytes);
    covered += bytes;
  }
  if (covered === 0) return add("other", PAGE);
  for (const [c, bytes] of held) add(c, (bytes * PAGE) / covered);
}
