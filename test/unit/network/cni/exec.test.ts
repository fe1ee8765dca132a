// Plugin execution protocol against small script plugins the test writes: environment and
// stdin as the spec says, the plugin's own error message, non-JSON failures, timeouts.
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Code } from "../../../../src/errors.js";
import { execPlugin, findPlugin } from "../../../../src/network/cni/exec.js";
import { CniPluginError } from "../../../../src/network/cni/types.js";

async function binDir(t: { after: (fn: () => Promise<void>) => void }, plugins: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "berth-cnibin-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(plugins)) {
    await writeFile(join(d, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(d, name), 0o755);
  }
  return d;
}

const base = { command: "ADD" as const, containerId: "c1", netns: "/run/netns/x", ifName: "eth0", args: "IgnoreUnknown=1;K8S_POD_NAME=p" };

test("passes CNI_* env and netconf on stdin, parses the result", async (t) => {
  // Echoes its environment and stdin back inside a result object.
  const d = await binDir(t, {
    echo: `in=$(cat); printf '{"cniVersion":"1.0.0","env":"%s|%s|%s|%s|%s|%s","conf":%s}' "$CNI_COMMAND" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_ARGS" "$CNI_PATH" "$in"`,
  });
  const r = await execPlugin({ ...base, binDirs: [d, "/usr/lib/cni"], type: "echo", netconf: { cniVersion: "1.0.0", name: "n", type: "echo" } });
  assert.ok(r);
  assert.equal(r["env"], `ADD|c1|/run/netns/x|eth0|IgnoreUnknown=1;K8S_POD_NAME=p|${d}:/usr/lib/cni`);
  assert.deepEqual(r["conf"], { cniVersion: "1.0.0", name: "n", type: "echo" });
  // DEL prints nothing on success.
  const del = await execPlugin({ ...base, command: "DEL", binDirs: [d], type: "echo", netconf: { cniVersion: "1.0.0", name: "n", type: "echo" } });
  assert.equal(del, undefined);
});

test("a plugin's CNI error JSON surfaces its msg, details and code", async (t) => {
  const d = await binDir(t, {
    failing: `cat >/dev/null; echo '{"cniVersion":"1.0.0","code":7,"msg":"subnet exhausted","details":"no free address in 10.9.0.0/30"}'; exit 1`,
    busy: `cat >/dev/null; echo '{"cniVersion":"1.0.0","code":11,"msg":"try later"}'; exit 1`,
    garbage: `cat >/dev/null; echo "panic: something broke" >&2; exit 2`,
  });
  const netconf = { cniVersion: "1.0.0", name: "n", type: "x" };
  await assert.rejects(execPlugin({ ...base, binDirs: [d], type: "failing", netconf }), (err: unknown) => {
    assert.ok(err instanceof CniPluginError);
    assert.equal(err.cniCode, 7);
    assert.equal(err.code, Code.INTERNAL);
    assert.match(err.message, /CNI plugin "failing" ADD for network "n" \(container c1\) failed: subnet exhausted: no free address in 10\.9\.0\.0\/30 \(CNI error code 7\)/);
    return true;
  });
  await assert.rejects(execPlugin({ ...base, binDirs: [d], type: "busy", netconf }), (err: unknown) => err instanceof CniPluginError && err.code === Code.UNAVAILABLE);
  await assert.rejects(execPlugin({ ...base, binDirs: [d], type: "garbage", netconf }), /failed \(exit 2\): panic: something broke/);
});

test("missing plugin and timeout", async (t) => {
  // The plugin records its pid, then becomes an hour-long sleep: only the timeout's kill ends it.
  const d = await binDir(t, { slow: 'echo $$ > "$(dirname "$0")/slow.pid"; exec sleep 3600' });
  await assert.rejects(findPlugin([d], "nope"), (err: unknown) => err instanceof Error && /CNI plugin "nope" not found in/.test(err.message));
  await assert.rejects(
    execPlugin({ ...base, binDirs: [d], type: "slow", timeoutMs: 200, netconf: { cniVersion: "1.0.0", name: "n", type: "slow" } }),
    (err: unknown) => err instanceof Error && "code" in err && err.code === Code.DEADLINE_EXCEEDED && /timed out after 200 ms/.test(err.message),
  );
  const pid = Number((await readFile(join(d, "slow.pid"), "utf8")).trim());
  assert.throws(() => process.kill(pid, 0), (e: NodeJS.ErrnoException) => e.code === "ESRCH", "the timed-out plugin was killed and reaped");
});

test("a real plugin's VERSION answer parses", async () => {
  const r = await execPlugin({ ...base, command: "VERSION", netns: "", binDirs: ["/usr/lib/cni"], type: "loopback", netconf: { cniVersion: "1.0.0" } });
  assert.ok(r);
  assert.ok(Array.isArray(r["supportedVersions"]) && r["supportedVersions"].includes("1.0.0"));
});
