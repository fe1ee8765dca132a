// Runs the coverage-guided fuzz targets (test/fuzz/targets, Jazzer.js + libFuzzer) against the
// built code: all briefly by default (CI), or some for longer. Fails when any target finds a crash.
//   node scripts/fuzz.mjs                       every target, 8 s each (BERTH_FUZZ_SECONDS)
//   node scripts/fuzz.mjs tar spdy --time 600   those targets, 600 s each
//   node scripts/fuzz.mjs --list                the target names
// Each target starts from its committed seeds (test/fuzz/corpus/<target>) plus what earlier runs
// found (.fuzz/corpus/<target>, not committed); crashing inputs land in .fuzz/crashes/<target>/.
// Replay one: node scripts/fuzz.mjs <target> --replay .fuzz/crashes/<target>/crash-<sha>
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
// name: the file in test/fuzz/targets; async: the target returns a promise; maxLen: libFuzzer -max_len;
const TARGETS = {
  // includes: packages whose parsing is part of the attack surface, instrumented for guidance too.
  tar: { async: true, maxLen: 16384, includes: ["node_modules/tar-stream/"] },
  manifest: { maxLen: 8192 },
  "image-config": { maxLen: 8192 },
  "www-authenticate": { maxLen: 2048 },
  "registry-auth": { async: true, maxLen: 2048 },
  "hosts-toml": { maxLen: 4096, includes: ["node_modules/smol-toml/"] },
  "registries-conf": { maxLen: 4096, includes: ["node_modules/smol-toml/"] },
  "cni-result": { maxLen: 4096 },
  cdi: { maxLen: 4096, includes: ["node_modules/yaml/"] },
  spdy: { async: true, maxLen: 8192 },
  websocket: { async: true, maxLen: 8192, includes: ["node_modules/ws/"] },
  "h2-front": { maxLen: 16384 },
  cri: { maxLen: 4096 },
};

const args = process.argv.slice(2);
let seconds = Number(process.env.BERTH_FUZZ_SECONDS || 8);
let replay;
const names = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--time") seconds = Number(args[++i]);
  else if (a === "--replay") replay = args[++i];
  else if (a === "--list") {
    console.log(Object.keys(TARGETS).join("\n"));
    process.exit(0);
  } else if (a in TARGETS) names.push(a);
  else {
    console.error(`fuzz: unknown target or flag ${JSON.stringify(a)}; targets: ${Object.keys(TARGETS).join(", ")}`);
    process.exit(2);
  }
}
if (!Number.isFinite(seconds) || seconds <= 0) {
  console.error("fuzz: --time takes a number of seconds");
  process.exit(2);
}
if (names.length === 0) names.push(...Object.keys(TARGETS));

// The prebuilt libFuzzer addon needs glibc 2.38; on older hosts this rebinds two symbols (idempotent).
const patch = spawnSync(process.execPath, [join(repo, "scripts/jazzer-glibc.mjs")], { stdio: "inherit" });
if (patch.status !== 0) process.exit(patch.status ?? 1);
const jazzer = join(repo, "node_modules/@jazzer.js/core/dist/cli.js");
if (!existsSync(jazzer)) {
  console.error("fuzz: @jazzer.js/core is not installed; run npm ci");
  process.exit(1);
}

function run(name) {
  const t = TARGETS[name];
  const target = join(repo, "dist/test/fuzz/targets", `${name}.js`);
  if (!existsSync(target)) throw new Error(`${target} is missing: run npm run build first`);
  const work = join(repo, ".fuzz/corpus", name);
  const crashes = join(repo, ".fuzz/crashes", name);
  const seeds = join(repo, "test/fuzz/corpus", name);
  mkdirSync(work, { recursive: true });
  mkdirSync(crashes, { recursive: true });
  const includes = ["dist/", ...(t.includes ?? [])].flatMap((p) => ["--includes", p]);
  // node_modules is excluded by default; a target that includes a package lists it, so exclude nothing else.
  const excludes = t.includes ? ["--excludes", "/no-such-path/"] : [];
  const jargs = [
    "--enable-source-maps",
    // The YAML parser warns about odd aliases on stderr; thousands of inputs make noise, not news.
    "--no-warnings",
    jazzer,
    target,
    ...(replay ? [] : [work, ...(existsSync(seeds) ? [seeds] : [])]),
    ...includes,
    ...excludes,
    ...(t.async ? [] : ["--sync"]),
    // Path normalising is what the parsers are for (cleanAbs, hosts.toml paths): no files are opened here.
    "--disable_bug_detectors",
    "path-traversal",
    "--timeout",
    "5000",
    "--",
    `-max_len=${t.maxLen}`,
    `-max_total_time=${seconds}`,
    `-artifact_prefix=${crashes}/`,
    "-rss_limit_mb=2048",
    "-print_final_stats=1",
    ...(replay ? ["-runs=1", replay] : []),
  ];
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, jargs, { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    // Kept from libFuzzer's output: its last status line, its final stats, the last lines otherwise.
    let status = "";
    const stats = {};
    const tail = [];
    let partial = "";
    const keep = (b) => {
      const lines = (partial + b.toString("latin1")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (/^#\d+\s/.test(line)) {
          status = line;
          if (/^#\d+\s+(NEW|REDUCE|pulse)/.test(line)) continue;
        }
        const st = /^stat::(\w+):\s+(\d+)/.exec(line);
        if (st) stats[st[1]] = st[2];
        tail.push(line);
        if (tail.length > 80) tail.shift();
      }
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("close", (code, signal) => {
      const run = /^#(\d+)\s.*exec\/s: (\d+)/.exec(status);
      const cov = /cov: (\d+) ft: (\d+) corp: (\d+)/.exec(status);
      // This run's findings only (the directory keeps earlier ones).
      const found = readdirSync(crashes).filter((f) => /^(crash|timeout|oom|leak)-/.test(f) && statSync(join(crashes, f)).mtimeMs >= started);
      resolve({
        name,
        ok: code === 0 && !signal,
        code: code ?? signal,
        secs: ((Date.now() - started) / 1000).toFixed(0),
        execs: stats.number_of_executed_units ?? run?.[1] ?? "?",
        perSec: stats.average_exec_per_sec ?? run?.[2] ?? "?",
        cov: cov ? `cov ${cov[1]} ft ${cov[2]} corpus ${cov[3]}` : "cov ?",
        found,
        log: [...tail, partial].join("\n"),
      });
    });
  });
}

let failed = false;
for (const name of names) {
  const r = await run(name);
  console.log(`fuzz ${r.name}: ${r.ok ? "ok" : `FAILED (exit ${r.code})`} ${r.secs} s, ${r.execs} runs, ${r.perSec} exec/s, ${r.cov}`);
  if (!r.ok) {
    failed = true;
    console.log(r.log);
    if (r.found.length > 0) console.log(`fuzz ${r.name}: inputs in .fuzz/crashes/${r.name}/: ${r.found.join(", ")}`);
  }
}
process.exit(failed ? 1 : 0);
