// Paths inside an image root resolve like the container would see them and never leave the
// root: absolute and relative symlinks, "..", loops, and files that are too big or not files.
import assert from "node:assert/strict";
import { constants } from "node:fs";
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { execFileSync } from "node:child_process";
import { readFileInRoot, resolveInRoot } from "../../../../src/containers/rootfs/in-root.js";
import { BerthError } from "../../../../src/errors.js";

let dir: string;
let root: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-inroot-"));
  root = join(dir, "root");
  await mkdir(join(root, "etc"), { recursive: true });
  await mkdir(join(root, "real"), { recursive: true });
  await writeFile(join(root, "real", "passwd"), "root:x:0:0::/:/bin/sh\n");
  await writeFile(join(dir, "secret"), "host secret\n");
  await symlink("/real/passwd", join(root, "etc", "passwd"));
  await symlink("../../../secret", join(root, "etc", "group"));
  await symlink("/../../secret", join(root, "etc", "shadow"));
  await symlink("/etc", join(root, "etclink"));
  await symlink("loop2", join(root, "loop1"));
  await symlink("loop1", join(root, "loop2"));
  await writeFile(join(root, "big"), Buffer.alloc(2048));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("absolute symlinks resolve against the root", async () => {
  assert.equal(await resolveInRoot(root, "/etc/passwd"), join(root, "real", "passwd"));
  assert.equal(await readFileInRoot(root, "/etclink/passwd", 1024), "root:x:0:0::/:/bin/sh\n");
});

test("relative and absolute .. stop at the root instead of escaping it", async () => {
  assert.equal(await readFileInRoot(root, "/etc/group", 1024), undefined, "the host file is not reached");
  assert.equal(await readFileInRoot(root, "/etc/shadow", 1024), undefined);
  await writeFile(join(root, "secret"), "inside\n");
  assert.equal(await resolveInRoot(root, "/etc/group"), join(root, "secret"));
  assert.equal(await readFileInRoot(root, "/etc/shadow", 1024), "inside\n", "the root's own file of that name");
  assert.equal(await resolveInRoot(root, "/../../etc/passwd"), join(root, "real", "passwd"));
});

test("missing paths are undefined; loops, big files and non-files are errors", async () => {
  assert.equal(await readFileInRoot(root, "/etc/nothing", 10), undefined);
  assert.equal(await readFileInRoot(root, "/real/passwd/x", 10), undefined);
  await assert.rejects(resolveInRoot(root, "/loop1"), (e: unknown) => e instanceof BerthError && /symbolic links/.test(e.message));
  await assert.rejects(readFileInRoot(root, "/big", 1024), /larger|at most 1024/);
  await assert.rejects(readFileInRoot(root, "/real", 1024), /not a regular file/);
  const fifo = join(root, "fifo");
  execFileSync("mkfifo", [fifo]);
  await assert.rejects(readFileInRoot(root, "/fifo", 1024), /not a regular file/, "a FIFO is refused without blocking");
});

test("a FIFO or device node at /etc/passwd is refused by its type before anything opens it", async () => {
  const etc = join(root, "dev-etc");
  await mkdir(etc, { recursive: true });
  const fifo = join(etc, "passwd");
  execFileSync("mkfifo", [fifo]);
  // A writer's open completes only once someone opens the FIFO for reading: it tells whether
  // readFileInRoot opened it (as it would open a watchdog device node).
  const writer = open(fifo, constants.O_WRONLY);
  let opened = false;
  void writer.then(async (fh) => {
    opened = true;
    await fh.close();
  });
  await assert.rejects(readFileInRoot(root, "/dev-etc/passwd", 1024), (e: unknown) =>
    e instanceof BerthError && /\/dev-etc\/passwd in the image is a FIFO, not a regular file/.test(e.message));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(opened, false, "the FIFO was never opened");
  const release = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK); // lets the writer go
  await writer;
  await release.close();

  execFileSync("mknod", [join(etc, "group"), "c", "1", "3"]);
  await assert.rejects(readFileInRoot(root, "/dev-etc/group", 1024), (e: unknown) =>
    e instanceof BerthError && /\/dev-etc\/group in the image is a character device, not a regular file/.test(e.message));
  await symlink("/dev-etc/group", join(etc, "group-link"));
  await assert.rejects(readFileInRoot(root, "/dev-etc/group-link", 1024), /is a character device/, "through a symlink too");
});
