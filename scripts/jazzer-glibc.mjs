// Makes Jazzer.js's prebuilt libFuzzer addon load on glibc < 2.38 (Debian 12 has 2.36): the npm
// build asks for __isoc23_strtol/strtoul@GLIBC_2.38; this rebinds them to strtol/strtoul@GLIBC_2.2.5.
//
// The C23 variants differ from the plain ones only in also accepting a "0b" prefix, which the
// addon's callers (libFuzzer flag parsing) never pass. The patch, in place on the installed .node:
// each of the two dynamic symbols gets st_name += 9 ("__isoc23_strtol" + 9 is "strtol" in .dynstr),
// its .gnu.version entry becomes the index the file already uses for GLIBC_2.2.5, and the
// GLIBC_2.38 requirement in .gnu.version_r is marked VER_FLG_WEAK, which the loader treats as
// non-fatal when missing (glibc dl-version.c).
// The build also needs libstdc++'s GLIBCXX_3.4.32 (GCC 13; Debian 12 ships 3.4.30) for one symbol,
// std::ios_base_library_init(), which GCC 13's <iostream> only names (`.globl`) to pin the newer
// library: no relocation uses it, so marking that requirement weak too is enough. The script
// checks that no relocation refers to it and that no other symbol needs that version.
// Every byte changed is checked first; anything unexpected fails loudly. Idempotent, and does
// nothing when the addon already loads (glibc >= 2.38, or already patched).
// Usage: node scripts/jazzer-glibc.mjs [path/to/fuzzer-linux-x64.node]
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT = join(repo, "node_modules/@jazzer.js/fuzzer/prebuilds/fuzzer-linux-x64.node");
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const VER_FLG_WEAK = 0x2;
const IOS_INIT = "_ZSt21ios_base_library_initv";
const RENAMES = new Map([["__isoc23_strtol", "strtol"], ["__isoc23_strtoul", "strtoul"]]);

function fail(msg) {
  console.error(`jazzer-glibc: ${msg}`);
  process.exit(1);
}

function loads(file) {
  const r = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(file)})`], { encoding: "utf8" });
  return { ok: r.status === 0, err: (r.stderr || "").split("\n").find((l) => l.includes("Error")) ?? r.stderr };
}

function cstr(buf, off) {
  const end = buf.indexOf(0, off);
  if (end < 0) fail(`unterminated string at ${off}`);
  return buf.toString("latin1", off, end);
}

/** Returns the patched bytes, or null when nothing needs changing. Throws through fail(). */
export function patch(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) fail("not a little-endian ELF64 file");
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  if (shentsize !== 64 || shoff + shnum * 64 > buf.length) fail("bad section header table");
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    sections.push({
      type: buf.readUInt32LE(o + 4),
      offset: Number(buf.readBigUInt64LE(o + 24)),
      size: Number(buf.readBigUInt64LE(o + 32)),
      link: buf.readUInt32LE(o + 40),
      info: buf.readUInt32LE(o + 44),
      entsize: Number(buf.readBigUInt64LE(o + 56)),
    });
  }
  const one = (type, what) => {
    const found = sections.filter((s) => s.type === type);
    if (found.length !== 1) fail(`expected one ${what} section, found ${found.length}`);
    return found[0];
  };
  const dynsym = one(SHT_DYNSYM, ".dynsym");
  const versym = one(SHT_GNU_VERSYM, ".gnu.version");
  const verneed = one(SHT_GNU_VERNEED, ".gnu.version_r");
  const dynstr = sections[dynsym.link];
  if (dynstr?.type !== 3) fail(".dynsym's sh_link is not a string table");
  if (dynsym.entsize !== 24) fail(`.dynsym entsize ${dynsym.entsize}, expected 24`);
  const nsyms = dynsym.size / 24;
  if (versym.size !== nsyms * 2) fail(".gnu.version does not match .dynsym");
  const str = (off) => cstr(buf, dynstr.offset + off);

  // Version needs: every vernaux, by "file:version".
  const aux = new Map(); // "libc.so.6:GLIBC_2.38" -> { index, flagsAt }
  let vn = verneed.offset;
  for (let i = 0; i < verneed.info; i++) {
    const cnt = buf.readUInt16LE(vn + 2);
    const file = str(buf.readUInt32LE(vn + 4));
    let va = vn + buf.readUInt32LE(vn + 8);
    for (let j = 0; j < cnt; j++) {
      const name = str(buf.readUInt32LE(va + 8));
      aux.set(`${file}:${name}`, { index: buf.readUInt16LE(va + 6), flagsAt: va + 4 });
      va += buf.readUInt32LE(va + 12);
    }
    const next = buf.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  const v225 = aux.get("libc.so.6:GLIBC_2.2.5");
  const v238 = aux.get("libc.so.6:GLIBC_2.38");
  const vcxx = aux.get("libstdc++.so.6:GLIBCXX_3.4.32");
  if (!v225) fail("no libc.so.6 GLIBC_2.2.5 version need to rebind to");

  // Symbols any relocation refers to (SHT_RELA sections linked to .dynsym).
  const referenced = new Set();
  const dynsymIndex = sections.indexOf(dynsym);
  for (const s of sections) {
    if (s.type !== 4 || s.link !== dynsymIndex) continue;
    for (let o = s.offset; o < s.offset + s.size; o += 24) referenced.add(Number(buf.readBigUInt64LE(o + 8) >> 32n));
  }

  const out = Buffer.from(buf);
  let changed = 0;
  let seen = 0;
  for (let i = 0; i < nsyms; i++) {
    const o = dynsym.offset + i * 24;
    const name = str(buf.readUInt32LE(o));
    const plain = [...RENAMES.values()].includes(name);
    const vAt = versym.offset + i * 2;
    const ver = buf.readUInt16LE(vAt) & 0x7fff;
    if (RENAMES.has(name)) {
      if (!v238 || ver !== v238.index) fail(`${name} is bound to version index ${ver}, expected GLIBC_2.38's`);
      if (buf.readUInt16LE(o + 6) !== 0) fail(`${name} is defined here, expected an undefined import`);
      const to = RENAMES.get(name);
      const skip = name.length - to.length;
      if (str(buf.readUInt32LE(o) + skip) !== to) fail(`${name} + ${skip} is not "${to}" in .dynstr`);
      out.writeUInt32LE(buf.readUInt32LE(o) + skip, o);
      out.writeUInt16LE(v225.index, vAt);
      changed++;
      seen++;
    } else if (v238 && ver === v238.index) {
      fail(`symbol ${name} also needs GLIBC_2.38; only ${[...RENAMES.keys()].join(", ")} can be rebound`);
    } else if (vcxx && ver === vcxx.index) {
      if (name !== IOS_INIT) fail(`symbol ${name} needs GLIBCXX_3.4.32; only ${IOS_INIT} can do without it`);
      if (referenced.has(i)) fail(`a relocation uses ${IOS_INIT}: it cannot be left unresolved`);
    } else if (plain && ver === v225.index && buf.readUInt16LE(o + 6) === 0) {
      seen++; // Already rebound by an earlier run.
    }
  }
  if (v238 && seen < RENAMES.size) fail(`found ${seen} of the ${RENAMES.size} symbols to rebind`);
  for (const v of [v238, vcxx]) {
    if (!v) continue;
    const flags = buf.readUInt16LE(v.flagsAt);
    if ((flags & VER_FLG_WEAK) === 0) {
      out.writeUInt16LE(flags | VER_FLG_WEAK, v.flagsAt);
      changed++;
    }
  }
  return changed > 0 ? out : null;
}

function main() {
  const file = process.argv[2] ?? DEFAULT;
  if (!existsSync(file)) fail(`${file} does not exist (run npm ci first)`);
  if (process.platform !== "linux" || process.arch !== "x64") return;
  const before = loads(file);
  if (before.ok) return;
  if (!/GLIBC_2\.38|GLIBCXX_3\.4\.32/.test(before.err)) fail(`${file} does not load, and not for GLIBC_2.38: ${before.err}`);
  const patched = patch(readFileSync(file));
  if (patched === null) fail(`${file} does not load (${before.err}) but there is nothing left to patch`);
  writeFileSync(`${file}.tmp`, patched, { mode: 0o755 });
  renameSync(`${file}.tmp`, file);
  const after = loads(file);
  if (!after.ok) fail(`patched ${file} still does not load: ${after.err}`);
  console.error(`jazzer-glibc: rebound __isoc23_strtol/strtoul to GLIBC_2.2.5, GLIBCXX_3.4.32 made optional, in ${file}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
