// mount(2)/umount2(2) through libc as root: a tmpfs with flags and data, an overlay with absolute
// lowerdirs, stacked and missing mounts, and errors that name the mount and the errno.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMountPoint, MS_NODEV, MS_NOEXEC, MS_NOSUID, mountFs, unmount } from "../../../src/oci/mount.js";
import { libcUnavailable } from "../../../src/util/libc.js";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "berth-mount-"));
}

async function mountLine(path: string): Promise<string | undefined> {
  return (await readFile("/proc/self/mountinfo", "utf8")).split("\n").find((l) => l.split(" ")[4] === path);
}

test("libc is what mounts here", () => {
  assert.equal(libcUnavailable(), "");
});

test("a tmpfs with nosuid,nodev,noexec and its data; unmount says whether something was mounted", async () => {
  const dir = await tempDir();
  try {
    await mountFs("shm", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536");
    assert.ok(await isMountPoint(dir));
    const line = (await mountLine(dir))!;
    assert.match(line, /nosuid,nodev,noexec/);
    assert.match(line, /size=64k/);
    assert.equal((await stat(dir)).mode & 0o7777, 0o1777);
    assert.equal(await unmount(dir), true);
    assert.equal(await isMountPoint(dir), false);
    assert.equal(await unmount(dir), false, "nothing mounted there any more");
    assert.equal(await unmount(join(dir, "missing")), false, "a path that is gone is not mounted");
  } finally {
    await unmount(dir, true).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test("an overlay with absolute lowerdirs mounts and shows the layers; a lazy unmount detaches it while busy", async () => {
  const dir = await tempDir();
  try {
    for (const d of ["l1", "l2", "up", "work", "merged"]) await mkdir(join(dir, d));
    await writeFile(join(dir, "l1", "top"), "1");
    await writeFile(join(dir, "l2", "bottom"), "2");
    await mountFs("overlay", join(dir, "merged"), "overlay", 0, `lowerdir=${join(dir, "l1")}:${join(dir, "l2")},upperdir=${join(dir, "up")},workdir=${join(dir, "work")}`);
    assert.equal(await readFile(join(dir, "merged", "top"), "utf8"), "1");
    assert.equal(await readFile(join(dir, "merged", "bottom"), "utf8"), "2");
    const busy = await (await import("node:fs/promises")).open(join(dir, "merged", "top"));
    try {
      await assert.rejects(unmount(join(dir, "merged")), /umount .*merged failed: EBUSY/);
      assert.equal(await unmount(join(dir, "merged"), true), true);
      assert.equal(await isMountPoint(join(dir, "merged")), false);
    } finally {
      await busy.close();
    }
  } finally {
    await unmount(join(dir, "merged"), true).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

test("a stacked mount takes one unmount per layer of the stack", async () => {
  const dir = await tempDir();
  try {
    await mountFs("a", dir, "tmpfs", 0, "size=4096");
    await mountFs("b", dir, "tmpfs", 0, "size=4096");
    assert.equal(await unmount(dir), true);
    assert.ok(await isMountPoint(dir), "the first tmpfs is still there");
    assert.equal(await unmount(dir), true);
    assert.equal(await isMountPoint(dir), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a failed mount names the filesystem, the target, the options and the errno", async () => {
  const dir = await tempDir();
  try {
    await assert.rejects(mountFs("x", dir, "berth-no-such-fs", 0, ""), /mount -t berth-no-such-fs x on .*berth-mount-.* failed: ENODEV/);
    await assert.rejects(
      mountFs("overlay", dir, "overlay", 0, `lowerdir=${join(dir, "missing")},upperdir=${join(dir, "u")},workdir=${join(dir, "w")}`),
      /mount -t overlay overlay on .* failed: ENOENT; the kernel log \(dmesg\) has overlayfs' reason/,
    );
    assert.equal(await isMountPoint(dir), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
