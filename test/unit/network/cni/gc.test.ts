// CNI cache GC against script plugins: an entry whose pod is unknown gets DEL with its own config
// and result, then goes; a known pod's entry, a failing DEL's entry and temp files stay.
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeCache } from "../../../../src/network/cni/cache.js";
import { CniNetwork } from "../../../../src/network/cni/network.js";
import type { NetConfList } from "../../../../src/network/cni/types.js";

const id = (c: string): string => c.repeat(64);

test("collectOrphans: DEL from the entry for unknown pods only; a failed DEL keeps the entry", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-cnigc-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bin = join(dir, "bin");
  const cache = join(dir, "cache");
  const calls = join(dir, "calls");
  await writeFile(calls, "");
  await mkdir(bin);
  // Records command, container and the stdin netconf; fails DEL for pod "c".
  await writeFile(join(bin, "rec"), `#!/bin/sh\nin=$(cat)\necho "$CNI_COMMAND $CNI_CONTAINERID $in" >> ${calls}\n[ "$CNI_CONTAINERID" = "${id("c")}" ] && { echo '{"cniVersion":"1.0.0","code":11,"msg":"busy"}'; exit 1; }\nexit 0\n`);
  await chmod(join(bin, "rec"), 0o755);
  const list: NetConfList = { cniVersion: "1.0.0", name: "net-a", disableCheck: false, plugins: [{ type: "rec", marker: "from-the-entry" }] };
  const entry = (pod: string) => ({ containerId: pod, ifName: "eth0", networkName: "net-a", netns: "/nonexistent", cniArgs: "", capabilityArgs: {}, config: list, configFile: "/x.conflist", result: { cniVersion: "1.0.0", ips: [{ address: "10.1.0.7/24" }] } });
  for (const p of [id("a"), id("b"), id("c")]) await writeCache(cache, entry(p));
  await writeFile(join(cache, `net-a-${id("d")}-eth0.json`), "not json");
  await writeFile(join(cache, ".net-a-x.0123456789ab.tmp"), "{}");

  const n = new CniNetwork({ confDirs: [join(dir, "none")], binDirs: [bin], cacheDir: cache });
  assert.equal(await n.collectOrphans(() => new Set([id("a")])), 2);
  const left = (await readdir(cache)).sort();
  assert.deepEqual(left, [".net-a-x.0123456789ab.tmp", `net-a-${id("a")}-eth0.json`, `net-a-${id("c")}-eth0.json`].sort());
  const lines = (await readFile(calls, "utf8")).trim().split("\n");
  assert.equal(lines.length, 2, "DEL for b and c; none for the known pod a or the unreadable d");
  const b = lines.find((l) => l.startsWith(`DEL ${id("b")} `))!;
  const conf = JSON.parse(b.slice(`DEL ${id("b")} `.length)) as { marker: string; name: string; prevResult: { ips: Array<{ address: string }> } };
  assert.equal(conf.marker, "from-the-entry");
  assert.equal(conf.name, "net-a");
  assert.equal(conf.prevResult.ips[0]!.address, "10.1.0.7/24", "DEL gets the cached result");
});
