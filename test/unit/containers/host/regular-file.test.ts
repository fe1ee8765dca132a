// A seccomp Localhost profile is read only when it is a regular file of bounded size: a FIFO
// would block the daemon, a device node would act; each is InvalidArgument naming the file.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readRegularFile } from "../../../../src/containers/host/regular-file.js";
import { BerthError, Code } from "../../../../src/errors.js";

const invalid = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof BerthError, String(e));
  assert.equal(e.code, Code.INVALID_ARGUMENT);
  assert.match(e.message, re);
  return true;
};

test("only a regular file of at most `max` bytes is read; FIFOs, devices, directories and missing files are refused", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-regular-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ok = join(dir, "ok.json");
  await writeFile(ok, '{"defaultAction":"SCMP_ACT_ALLOW"}');
  await symlink(ok, join(dir, "link.json"));
  execFileSync("mkfifo", [join(dir, "fifo")]);
  execFileSync("mknod", [join(dir, "null"), "c", "1", "3"]);
  await writeFile(join(dir, "big"), Buffer.alloc(101));

  assert.equal(await readRegularFile(ok, 100, "profile"), '{"defaultAction":"SCMP_ACT_ALLOW"}');
  assert.equal(await readRegularFile(join(dir, "link.json"), 100, "profile"), '{"defaultAction":"SCMP_ACT_ALLOW"}', "the node's own symlinks are followed");
  await assert.rejects(readRegularFile(join(dir, "fifo"), 100, "profile"), invalid(/^profile: .*\/fifo is a FIFO, not a regular file/));
  await assert.rejects(readRegularFile(join(dir, "null"), 100, "profile"), invalid(/\/null is a character device, not a regular file/));
  await assert.rejects(readRegularFile(dir, 100, "profile"), invalid(/is a directory, not a regular file/));
  await assert.rejects(readRegularFile(join(dir, "big"), 100, "profile"), invalid(/\/big is 101 bytes; at most 100 are read/));
  await assert.rejects(readRegularFile(join(dir, "none"), 100, "profile"), invalid(/cannot read .*\/none/));
});
