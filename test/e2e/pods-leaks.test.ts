// The leak checker itself: each kind of leftover it promises to find (mount, namespace pin,
// interface, cgroup, iptables rule, process, state file, IP lease) is made by hand and reported.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { findLeaks } from "../fixtures/leaks.js";
import { podEnv, run } from "./pods-kit.js";

test("the leak checker reports every kind of leftover, and nothing once they are gone", async (t) => {
  const env = await podEnv(t);
  const { d } = env;
  const scope = env.leaks.scope;
  const before = env.leaks.before;
  assert.deepEqual(await findLeaks(scope, before), []);

  const podDir = join(d.state, "pods", "f".repeat(64));
  const pin = join(d.state, "ns", "netns", "leak");
  const mnt = join(podDir, "shm");
  const lease = join(env.ipamDir, env.network, env.prefix + "77");
  const dummy = `bl${env.id}`;
  const cgroup = join("/sys/fs/cgroup/pids", env.cgroupParent, "podleak");
  const rule = ["-t", "nat", "-A", "POSTROUTING", "-s", `${env.prefix}77/32`, "-m", "comment", "--comment", `leak-${"e".repeat(64)}`, "-j", "RETURN"];
  let sleeper: ReturnType<typeof spawn> | undefined;
  try {
    await mkdir(mnt, { recursive: true });
    await mkdir(join(d.state, "ns", "netns"), { recursive: true });
    await mkdir(join(env.ipamDir, env.network), { recursive: true });
    await writeFile(pin, "");
    await writeFile(lease, "x");
    await run("mount", ["-t", "tmpfs", "leak", mnt]);
    await run("unshare", [`--net=${pin}`, "true"]);
    await run("ip", ["link", "add", dummy, "type", "veth", "peer", "name", `${dummy}p`]);
    await mkdir(cgroup, { recursive: true });
    await run("iptables", ["-w", ...rule]);
    sleeper = spawn("sleep", ["60"], { cwd: podDir, stdio: "ignore" });
    const leaks = (await findLeaks(scope, before)).join("\n");
    for (const want of [`mount: ${mnt}`, `namespace pin: ${pin}`, `interface: ${dummy}`, `cgroup: ${cgroup}`, "iptables: -A POSTROUTING", `pid ${sleeper.pid}: sleep 60`, `file: ${pin}`, `IP lease: ${lease}`]) {
      assert.ok(leaks.includes(want), `expected "${want}" in:\n${leaks}`);
    }
  } finally {
    if (sleeper) {
      sleeper.kill("SIGKILL");
      await once(sleeper, "exit");
    }
    await run("iptables", ["-w", ...rule.map((a) => (a === "-A" ? "-D" : a))]).catch(() => undefined);
    await rmdir(cgroup).catch(() => undefined);
    await run("ip", ["link", "del", dummy]).catch(() => undefined);
    await run("umount", [pin]).catch(() => undefined);
    await run("umount", [mnt]).catch(() => undefined);
    await rm(podDir, { recursive: true, force: true });
    await rm(pin, { force: true });
    await rm(lease, { force: true });
  }
  assert.deepEqual(await findLeaks(scope, before), []);
});
