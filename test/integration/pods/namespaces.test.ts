// Pinned pod namespaces made for real with unshare in a temp dir (root): hostname and sysctls
// land inside them, unpinning is idempotent, failures leave no pins.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { hostname as hostHostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import {
  applySysctls,
  isNamespaceFile,
  pinNamespaces,
  unpinNamespaces,
  type PinnedNamespaces,
} from "../../../src/pods/namespaces.js";

const run = promisify(execFile);

async function pinDir(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; track: (p: PinnedNamespaces) => void }> {
  const dir = await mkdtemp(join(tmpdir(), "berth-pins-"));
  const made: PinnedNamespaces[] = [];
  // Unpin whatever a test made even when it failed half-way, then drop the dir.
  t.after(async () => {
    for (const p of made) await unpinNamespaces(p);
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, track: (p) => made.push(p) };
}

async function inNs(pins: PinnedNamespaces, ...cmd: string[]): Promise<string> {
  const enter = [pins.net ? `--net=${pins.net}` : "", pins.ipc ? `--ipc=${pins.ipc}` : "", pins.uts ? `--uts=${pins.uts}` : ""].filter(Boolean);
  return (await run("nsenter", [...enter, "--", ...cmd])).stdout.trim();
}

test("pins net, ipc and uts with hostname and sysctls in one go; unpin twice is fine", async (t) => {
  const { dir, track } = await pinDir(t);
  const started = performance.now();
  const pins = await pinNamespaces(dir, "pod1", { net: true, ipc: true, uts: true }, {
    hostname: "web-0",
    sysctls: { "net.ipv4.ip_unprivileged_port_start": "0", "kernel.shmmni": "1234", "net/ipv4/ping_group_range": "0 1000" },
  });
  t.diagnostic(`pinNamespaces(net,ipc,uts + hostname + 3 sysctls): ${(performance.now() - started).toFixed(1)} ms`);
  track(pins);
  assert.deepEqual(pins, { net: join(dir, "netns", "pod1"), ipc: join(dir, "ipcns", "pod1"), uts: join(dir, "utsns", "pod1") });
  for (const p of Object.values(pins)) assert.ok(await isNamespaceFile(p), `${p} is a pinned namespace`);

  assert.equal(await inNs(pins, "hostname"), "web-0");
  assert.notEqual(hostHostname(), "web-0");
  assert.equal(await inNs(pins, "sysctl", "-n", "net.ipv4.ip_unprivileged_port_start", "kernel.shmmni"), "0\n1234");
  assert.equal((await inNs(pins, "sysctl", "-n", "net.ipv4.ping_group_range")).replace(/\s+/g, " "), "0 1000");
  // The host's values are untouched.
  assert.notEqual((await run("sysctl", ["-n", "kernel.shmmni"])).stdout.trim(), "1234");
  // A fresh netns holds only lo, down: bringing it up is CNI's job.
  assert.match(await inNs(pins, "ip", "-o", "link"), /^1: lo: <LOOPBACK> /);

  await applySysctls(pins, { "net.ipv4.ip_unprivileged_port_start": "80" });
  assert.equal(await inNs(pins, "sysctl", "-n", "net.ipv4.ip_unprivileged_port_start"), "80");

  await unpinNamespaces(pins);
  for (const p of Object.values(pins)) assert.equal(await isNamespaceFile(p), false);
  assert.deepEqual(await readdir(join(dir, "netns")), []);
  await unpinNamespaces(pins);
});

test("only the requested namespaces are pinned; hostname is ignored without uts", async (t) => {
  const { dir, track } = await pinDir(t);
  const pins = await pinNamespaces(dir, "pod2", { net: true, ipc: false, uts: false }, { hostname: "ignored" });
  track(pins);
  assert.deepEqual(Object.keys(pins), ["net"]);
  assert.equal(hostHostname() === "ignored", false);
  assert.deepEqual(await pinNamespaces(dir, "pod3", { net: false, ipc: false, uts: false }), {});
});

test("failures leave no pins: refused sysctl, unknown sysctl, existing pin", async (t) => {
  const { dir, track } = await pinDir(t);
  await assert.rejects(
    pinNamespaces(dir, "p", { net: true, ipc: false, uts: true }, { sysctls: { "kernel.shmmax": "1" } }),
    /sysctl kernel\.shmmax is not allowed with host IPC/,
  );
  await assert.rejects(
    pinNamespaces(dir, "p", { net: true, ipc: true, uts: true }, { sysctls: { "net.ipv4.no_such_knob": "1" } }),
    /no_such_knob/,
  );
  for (const k of ["netns", "ipcns", "utsns"]) assert.deepEqual(await readdir(join(dir, k)).catch(() => []), [], `${k} is empty`);

  const pins = await pinNamespaces(dir, "p", { net: true, ipc: false, uts: false });
  track(pins);
  await assert.rejects(pinNamespaces(dir, "p", { net: true, ipc: false, uts: false }), /already exists/);
  assert.ok(await isNamespaceFile(pins.net!), "the first pin survives the refused second one");
  await assert.rejects(pinNamespaces(dir, "../evil", { net: true, ipc: false, uts: false }), /pin id/);
  await assert.rejects(pinNamespaces(dir, "q", { net: false, ipc: false, uts: true }, { hostname: "bad name" }), /not a valid host name/);
});

test("a pod user namespace: pinned with kubelet's mappings, owning the net/ipc/uts pins (its root sets their sysctls); unpinned with them", async (t) => {
  const { dir, track } = await pinDir(t);
  const map = [{ containerId: 0, hostId: 65536 * 9, length: 65536 }];
  const pins = await pinNamespaces(dir, "podu", { net: true, ipc: true, uts: true, user: true }, {
    hostname: "userns-0",
    sysctls: { "kernel.shmmni": "1234", "net.ipv4.ip_unprivileged_port_start": "0" },
    userns: { uids: map, gids: map },
  });
  track(pins);
  assert.equal(pins.user, join(dir, "userns", "podu"));
  for (const p of Object.values(pins)) assert.ok(await isNamespaceFile(p), `${p} is a pinned namespace`);
  const inside = async (...cmd: string[]) => (await run("nsenter", [`--user=${pins.user}`, `--net=${pins.net}`, `--ipc=${pins.ipc}`, `--uts=${pins.uts}`, "--", ...cmd])).stdout.trim();
  assert.equal((await inside("cat", "/proc/self/uid_map")).split(/\s+/).join(" "), `0 ${65536 * 9} 65536`);
  assert.equal((await inside("cat", "/proc/self/gid_map")).split(/\s+/).join(" "), `0 ${65536 * 9} 65536`);
  assert.equal(await inside("hostname"), "userns-0");
  // Set by the pod's root, which only works in namespaces its user namespace owns.
  assert.equal(await inside("sysctl", "-n", "kernel.shmmni", "net.ipv4.ip_unprivileged_port_start"), "1234\n0");
  await unpinNamespaces(pins);
  for (const p of Object.values(pins)) assert.equal(await isNamespaceFile(p), false);
});
