// cgroup readers on hand-made cgroupfs trees (v1 controllers and a v2 dir): working set, limits,
// swap, PSI and process counts come out as kubelet computes them; parsers for the flat files.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CgroupReader, parseFlat, parsePsi } from "../../../../src/containers/stats/cgroup-read.js";
import { parseNetDev } from "../../../../src/containers/stats/net-dev.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-cgread-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(base: string, entries: Record<string, string>): Promise<void> {
  await mkdir(base, { recursive: true });
  for (const [k, v] of Object.entries(entries)) await writeFile(join(base, k), v);
}

test("v1: cpuacct, memory (working set = usage − total_inactive_file), swap from memsw, pids", async () => {
  const path = "/kubepods/pod1/c1";
  await files(join(dir, "v1/cpuacct", path), { "cpuacct.usage": "123456789\n" });
  await files(join(dir, "v1/memory", path), {
    "memory.usage_in_bytes": "10000\n",
    "memory.memsw.usage_in_bytes": "12000\n",
    "memory.stat": "cache 5\nrss 1\ntotal_inactive_file 3000\ntotal_rss 4000\ntotal_pgfault 77\ntotal_pgmajfault 2\nhierarchical_memory_limit 65536\nhierarchical_memsw_limit 9223372036854771712\n",
  });
  await files(join(dir, "v1/pids", path), { "pids.current": "3\n" });
  const r = new CgroupReader([
    { kind: "v1", mount: join(dir, "v1/cpuacct"), controllers: ["cpuacct"] },
    { kind: "v1", mount: join(dir, "v1/memory"), controllers: ["memory"] },
    { kind: "v1", mount: join(dir, "v1/pids"), controllers: ["pids"] },
  ], false);
  const s = await r.read(path);
  assert.deepEqual(s, { cpuNs: 123456789n, memoryUsage: 10000n, workingSet: 7000n, rss: 4000n, pageFaults: 77n, majorPageFaults: 2n, memoryLimit: 65536n, swapUsage: 2000n, pids: 3n });
  assert.deepEqual(await r.read("/gone"), {}, "a removed cgroup reads as nothing, not an error");
});

test("v2: cpu.stat usec, memory.current/max/stat, swap, pids and PSI", async () => {
  const path = "/kubepods.slice/pod.slice/berth-c1.scope";
  await files(join(dir, "v2", path), {
    "cpu.stat": "usage_usec 2500\nuser_usec 2000\n",
    "memory.current": "8192\n",
    "memory.max": "max\n",
    "memory.stat": "anon 1024\ninactive_file 9000\npgfault 5\npgmajfault 1\n",
    "memory.swap.current": "0\n",
    "memory.swap.max": "4096\n",
    "pids.current": "2\n",
    "cpu.pressure": "some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
  });
  const r = new CgroupReader([{ kind: "v2", mount: join(dir, "v2"), controllers: [] }], true);
  const s = await r.read(path);
  assert.equal(s.cpuNs, 2_500_000n);
  assert.equal(s.workingSet, 0n, "never below zero");
  assert.equal(s.memoryLimit, undefined, "max means unlimited");
  assert.equal(s.rss, 1024n);
  assert.equal(s.swapLimit, 4096n);
  assert.equal(s.pids, 2n);
  assert.deepEqual(s.cpuPsi, { some: { total: 42n, avg10: 1.5, avg60: 0, avg300: 0 }, full: { total: 7n, avg10: 0, avg60: 0, avg300: 0 } });
});

test("flat, PSI and net/dev parsers skip what they do not understand", () => {
  assert.deepEqual([...parseFlat("a 1\nb x\n\nc 3")], [["a", 1n], ["c", 3n]]);
  assert.equal(parsePsi(""), undefined);
  const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    5000      10    2    0    0     0          0         0     7000      12    1    0    0     0       0          0
`;
  assert.deepEqual(parseNetDev(dev), [{ name: "eth0", rxBytes: 5000n, rxErrors: 2n, txBytes: 7000n, txErrors: 1n }]);
});
