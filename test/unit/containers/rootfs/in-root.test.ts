// Paths inside an image root resolve like the container would see them and never leave the
// root: absolute and relative symlinks, "..", loops, and files that are too big or not files.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
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
