// Image volumes (CRI Mount.image, image_sub_path) against the real daemon: an image's layers mounted
// read-only, shared and counted across containers, held from GC while mounted, errors that leave nothing.
import assert from "node:assert/strict";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { status as code, type ServiceError } from "@grpc/grpc-js";
import { ContainerState, Mount } from "../../src/generated/runtime/v1/api.js";
import type { Daemon } from "../fixtures/daemon.js";
import { pushImage, type PushedImage } from "../fixtures/images.js";
import { list as listImages, remove as removeImage, status as imageStatus } from "./images-kit.js";
import { removePod, run } from "./pods-kit.js";
import {
  createCtr, ctrConfig, ctrEnv, ctrStatus, exec, listCtrs, pull, removeCtr, runPodWithLogs, sharedRegistry, startCtr, stopCtr, waitState, type CtrEnv, type Registry,
} from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
let tools: PushedImage;
before(async () => {
  r = await sharedRegistry();
  // Two layers (the second replaces a file of the first), a relative symlink inside and an absolute one
  // aiming out of the image; no busybox in it, so its layers are its own.
  tools = await pushImage(r.reg, {
    repo: "tools", tag: "v1",
    layers: [
      { entries: [
        { type: "dir", path: "share" }, { type: "dir", path: "share/docs" },
        { type: "file", path: "share/docs/readme.txt", content: "docs v1\n" },
        { type: "file", path: "top.txt", content: "top\n" },
        { type: "symlink", path: "share/link", target: "docs" },
        { type: "symlink", path: "share/escape", target: "/../../../../etc" },
        { type: "fifo", path: "share/pipe" },
      ] },
      { entries: [{ type: "file", path: "share/docs/readme.txt", content: "docs v2\n" }] },
    ],
  });
});
after(async () => {
  await r.stop();
});

const volume = (containerPath: string, image: string, imageSubPath = ""): Mount =>
  Mount.fromPartial({ containerPath, image: { image }, imageSubPath, readonly: true });

/** Overlay mounts under the daemon's image-volumes dir (from the host's mount table). */
async function volumeMounts(root: string): Promise<string[]> {
  const base = `${join(root, "image-volumes")}/`;
  const lines = (await readFile("/proc/self/mountinfo", "utf8")).split("\n");
  return lines.map((l) => l.split(" ")[4] ?? "").filter((p) => p.startsWith(base)).map((p) => p.slice(base.length)).sort();
}

/** Entries of the image-volumes dir other than the shared empty filler dirs. */
async function volumeDirs(root: string): Promise<string[]> {
  return (await readdir(join(root, "image-volumes")).catch(() => [])).filter((n) => n !== ".filler");
}

const hexOf = (id: string) => id.replace(/^sha256:/, "");

async function sleeper(env: CtrEnv, podId: string, mounts: Mount[], name?: string): Promise<string> {
  const id = await createCtr(env, podId, ctrConfig(env, { ...(name ? { name } : {}), command: ["sleep", "3600"], mounts }));
  await startCtr(env.d, id);
  await waitState(env.d, id, ContainerState.CONTAINER_RUNNING);
  return id;
}

const out = async (d: Daemon, id: string, script: string) => {
  const res = await exec(d, id, ["sh", "-c", script]);
  return { code: res.exitCode, text: res.stdout.toString() + res.stderr.toString() };
};

test("an image volume, whole and by sub path, read-only, one mount per image shared by containers, status shows it", async (t) => {
  const env = await ctrEnv(t, r);
  const toolsId = await pull(env.d, tools.reference);
  const busyboxId = await pull(env.d, env.image);
  const podId = await runPodWithLogs(env);
  const a = await sleeper(env, podId, [
    volume("/tools", toolsId),
    volume("/docs", toolsId, "share/link"),
    volume("/readme.txt", toolsId, "/share/docs/readme.txt"),
    volume("/bb", busyboxId), // one layer: overlay needs a filler lower
  ], "a");

  let res = await out(env.d, a, "cat /tools/top.txt /tools/share/docs/readme.txt /docs/readme.txt /readme.txt; ls /docs; test -x /bb/bin/sh && echo bb-ok");
  assert.equal(res.code, 0, res.text);
  assert.equal(res.text, "top\ndocs v2\ndocs v2\ndocs v2\nreadme.txt\nbb-ok\n");
  // Read-only, whole and sub path, even for root in the container.
  for (const path of ["/tools/new", "/tools/share/docs/readme.txt", "/docs/new", "/readme.txt", "/bb/new"]) {
    res = await out(env.d, a, `echo x > ${path}`);
    assert.notEqual(res.code, 0, path);
    assert.match(res.text, /Read-only file system/, path);
  }
  res = await out(env.d, a, "grep -E ' /(tools|docs|bb) ' /proc/self/mountinfo");
  for (const line of res.text.trim().split("\n")) assert.match(line.split(" ")[5] ?? "", /^ro\b/, line);

  // Status: each mount as given, its ImageSpec carrying the image_ref (the digested reference).
  const st = (await ctrStatus(env.d, a)).status!;
  const digested = `${r.reg.host}/tools@${tools.manifestDigest}`;
  assert.deepEqual(st.mounts.map((m) => [m.containerPath, m.image?.image, m.image?.imageRef, m.imageSubPath, m.hostPath]), [
    ["/tools", toolsId, digested, "", ""],
    ["/docs", toolsId, digested, "share/link", ""],
    ["/readme.txt", toolsId, digested, "/share/docs/readme.txt", ""],
    ["/bb", busyboxId, `${r.reg.host}/busybox@${r.busybox.manifestDigest}`, "", ""],
  ]);

  // One mount per image, whatever the number of mounts and containers using it.
  assert.deepEqual(await volumeMounts(env.d.root), [hexOf(busyboxId), hexOf(toolsId)].sort());
  const pod2 = await runPodWithLogs(env);
  const b = await sleeper(env, pod2, [volume("/t", toolsId, "share")], "b");
  assert.equal((await out(env.d, b, "cat /t/docs/readme.txt")).text, "docs v2\n");
  assert.deepEqual(await volumeMounts(env.d.root), [hexOf(busyboxId), hexOf(toolsId)].sort());

  // The first container goes: the image b still uses stays mounted, busybox's goes.
  await stopCtr(env.d, a, 0n);
  await removeCtr(env.d, a);
  assert.deepEqual(await volumeMounts(env.d.root), [hexOf(toolsId)]);
  assert.equal((await out(env.d, b, "cat /t/docs/readme.txt")).text, "docs v2\n");
  await removePod(env.d, pod2);
  assert.deepEqual(await volumeMounts(env.d.root), []);
  assert.deepEqual(await volumeDirs(env.d.root), []);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("an image in use as a volume: RemoveImage untags it (as containerd) but its layers stay until the container goes, then GC takes them", async (t) => {
  const env = await ctrEnv(t, r);
  const toolsId = await pull(env.d, tools.reference);
  const lowerDirs = JSON.parse((await imageStatus(env.d, toolsId, true)).info.info!).lowerDirs as string[];
  assert.equal(lowerDirs.length, 2);
  const podId = await runPodWithLogs(env);
  const id = await sleeper(env, podId, [volume("/tools", toolsId)]);

  await removeImage(env.d, toolsId);
  assert.deepEqual((await listImages(env.d)).map((i) => i.id).filter((x) => x === toolsId), [], "the image is gone from the list");
  for (const dir of lowerDirs) assert.ok((await readdir(dir)).length > 0, `${dir} is kept while mounted`);
  assert.equal((await out(env.d, id, "cat /tools/share/docs/readme.txt")).text, "docs v2\n");
  // Removing something else runs GC too: the mounted layers still survive it.
  await removeImage(env.d, env.image).catch(() => undefined);
  for (const dir of lowerDirs) assert.ok((await readdir(dir)).length > 0, `${dir} survives a GC while mounted`);
  assert.equal((await out(env.d, id, "cat /tools/top.txt")).text, "top\n");

  await stopCtr(env.d, id, 0n);
  await removeCtr(env.d, id);
  assert.deepEqual(await volumeMounts(env.d.root), []);
  // Collected once the container's record is gone (GC runs in the background of RemoveContainer).
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (await Promise.all(lowerDirs.map((d) => readdir(d).then(() => true, () => false)))).some(Boolean)) {
    await new Promise((res) => setTimeout(res, 50));
  }
  for (const dir of lowerDirs) await assert.rejects(readdir(dir), `${dir} is collected after the container is removed`);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

const failsWith = (c: number, re: RegExp) => (e: ServiceError): boolean => {
  assert.equal(e.code, c, e.details);
  assert.match(e.details, re);
  return true;
};

test("a missing image and bad sub paths: clear errors naming them, nothing left behind", async (t) => {
  const env = await ctrEnv(t, r);
  const toolsId = await pull(env.d, tools.reference);
  const podId = await runPodWithLogs(env);
  const missing = `sha256:${"0".repeat(64)}`;
  const create = (mounts: Mount[]) => createCtr(env, podId, ctrConfig(env, { command: ["true"], mounts }));

  await assert.rejects(create([volume("/m", missing)]), failsWith(code.NOT_FOUND, new RegExp(`mounts\\[0\\] \\(/m\\): image "${missing}" .*not on this node; pull it first`)));
  await assert.rejects(create([volume("/m", `${r.reg.host}/tools:absent`)]), failsWith(code.NOT_FOUND, /tools:absent/));
  await assert.rejects(create([volume("/m", toolsId, "share/nope")]), failsWith(code.INVALID_ARGUMENT, /image_sub_path "share\/nope" does not exist in image .*tools@sha256/));
  // An absolute symlink resolves inside the image (which has no /etc), never to the host's /etc.
  await assert.rejects(create([volume("/m", toolsId, "share/escape")]), failsWith(code.INVALID_ARGUMENT, /image_sub_path "share\/escape" does not exist/));
  await assert.rejects(create([volume("/m", toolsId, "../../../../etc")]), failsWith(code.INVALID_ARGUMENT, /does not exist/));
  await assert.rejects(create([volume("/m", toolsId, "share/pipe")]), failsWith(code.INVALID_ARGUMENT, /is a FIFO .*only a directory or a regular file/));
  await assert.rejects(create([Mount.fromPartial({ containerPath: "/m", hostPath: "/tmp", image: { image: toolsId }, readonly: true })]),
    failsWith(code.INVALID_ARGUMENT, /host_path "\/tmp" and image .* are exclusive/));

  assert.deepEqual(await listCtrs(env.d, { podSandboxId: podId }), []);
  assert.deepEqual(await volumeMounts(env.d.root), []);
  assert.deepEqual(await volumeDirs(env.d.root), []);
  assert.deepEqual(await readdir(join(env.d.root, "containers")), []);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});

test("across a restart: a volume in use stays mounted and is released on removal; a stale one is cleaned at start", async (t) => {
  const env = await ctrEnv(t, r);
  const toolsId = await pull(env.d, tools.reference);
  const podId = await runPodWithLogs(env);
  const id = await sleeper(env, podId, [volume("/tools", toolsId)]);
  // A volume mount no container holds (as a crash between mount and record could leave).
  const stale = join(env.d.root, "image-volumes", "f".repeat(64));
  await mkdir(stale, { recursive: true });
  await run("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", stale]);
  t.after(() => run("umount", [stale]).catch(() => undefined));

  // The restarted daemon runs on the first one's root (its own `root` field names a fresh dir).
  const root = env.d.root;
  const d = await env.restart();
  assert.deepEqual(await volumeMounts(root), [hexOf(toolsId)]);
  assert.deepEqual(await volumeDirs(root), [hexOf(toolsId)]);
  assert.equal((await out(d, id, "cat /tools/top.txt")).text, "top\n");
  await removePod(d, podId);
  assert.deepEqual(await volumeMounts(root), []);
  assert.deepEqual(await volumeDirs(root), []);
  await env.leaks.assertNoLeaks();
});
