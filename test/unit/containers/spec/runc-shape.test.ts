// The runc-shape checker accepts `runc spec`'s own config and names what runc would refuse.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildSpec } from "../../../../src/containers/spec/build.js";
import type { OciLinux, OciProcess, OciSpec } from "../../../../src/containers/spec/oci-types.js";
import { runcSpecProblems } from "./runc-shape.js";
import { input } from "./fixtures.js";

test("runc's own default config.json has no problems", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-runc-shape-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  execFileSync("runc", ["spec", "--bundle", dir], { stdio: ["ignore", "ignore", "pipe"] });
  const spec: unknown = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
  assert.deepEqual(runcSpecProblems(spec), []);
});

test("problems runc would refuse are named", () => {
  const problems = (mutate: (s: OciSpec, l: OciLinux, p: OciProcess) => void): string => {
    const s = JSON.parse(JSON.stringify(buildSpec(input()))) as OciSpec;
    assert.ok(s.linux && s.process);
    mutate(s, s.linux, s.process);
    return runcSpecProblems(s).join("; ");
  };
  // Values runc refuses but the types forbid, smuggled in as they would arrive from a bad file.
  const bad = <T>(v: unknown): T => v as T;
  assert.equal(problems(() => {}), "");
  assert.deepEqual(runcSpecProblems(null), ["spec: must be an object"]);
  assert.match(problems((s) => (s.hostname = "x")), /hostname: runc sets a hostname only in a new UTS namespace/);
  assert.match(problems((_, l) => l.namespaces?.push({ type: "mount" })), /duplicated namespace mount/);
  assert.match(problems((_, l) => l.namespaces?.push(bad({ type: "time" }))), /not a namespace type/);
  assert.match(problems((_, __, p) => (p.args = [])), /process\.args/);
  assert.match(problems((_, __, p) => (p.cwd = "srv")), /process\.cwd/);
  assert.match(problems((_, __, p) => p.capabilities?.bounding?.push("CAP_FLY")), /unknown capability CAP_FLY/);
  assert.match(problems((_, __, p) => (p.oomScoreAdj = -1001)), /oomScoreAdj/);
  assert.match(problems((s) => s.mounts?.push({ destination: "/x", type: "bind", source: "rel" })), /absolute source/);
  assert.match(problems((_, l) => (l.resources = { memory: bad({ limit: "1G" }) })), /memory\.limit: must be an integer/);
  assert.match(problems((_, l) => l.resources?.devices?.push({ allow: true, access: "rwx" })), /access/);
  assert.match(problems((_, l) => (l.seccomp = bad({ defaultAction: "SCMP_ACT_NOPE" }))), /defaultAction/);
  assert.match(
    problems((_, l) => (l.seccomp = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["x"], action: "SCMP_ACT_ALLOW", args: [{ index: 9, value: 0, op: "SCMP_CMP_EQ" }] }] })),
    /args\[0\]/,
  );
  assert.match(problems((_, l) => l.namespaces?.push({ type: "user" })), /needs uid and gid mappings/);
  assert.match(
    problems((_, l) => {
      l.namespaces = l.namespaces?.filter((n) => n.type !== "network");
      l.sysctl = { "net.core.somaxconn": "1" };
    }),
    /needs a network namespace/,
  );
  assert.match(problems((_, l) => (l.rootfsPropagation = bad("sideways"))), /rootfsPropagation/);
  assert.match(problems((_, l) => (l.maskedPaths = ["proc/kcore"])), /maskedPaths/);
});
