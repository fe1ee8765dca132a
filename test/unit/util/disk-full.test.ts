// Which failures count as a full disk (ENOSPC, EDQUOT, SQLITE_FULL, wrapped or not) and what the
// RESOURCE_EXHAUSTED error says: the path, its filesystem's free space, and to free space.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { BerthError, Code } from "../../../src/errors.js";
import { diskFullError, setDiskFullDirs } from "../../../src/util/disk-full.js";

const errno = (code: string, path?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${code === "EACCES" ? "permission denied" : "no space left on device"}, write`), { code, ...(path ? { path } : {}) });

test("ENOSPC with a path names it and its free space", () => {
  const e = diskFullError(errno("ENOSPC", tmpdir()), "CreateContainer");
  assert.ok(e instanceof BerthError);
  assert.equal(e.code, Code.RESOURCE_EXHAUSTED);
  assert.match(e.message, new RegExp(`^CreateContainer: no space left on the filesystem holding ${tmpdir()} \\(\\d+ KiB and \\d+ inodes free\\)`));
  assert.match(e.message, /free space there and retry$/);
});

test("without a path the root and state dirs are named; EDQUOT, SQLITE_FULL and wrapped causes count", () => {
  setDiskFullDirs(["/", tmpdir()]);
  assert.match(diskFullError(errno("EDQUOT"), "x")!.message, new RegExp(`holding / \\(.*\\) or ${tmpdir()} \\(`));
  const sqlite = Object.assign(new Error("database or disk is full"), { code: "ERR_SQLITE_ERROR", errcode: 13 });
  assert.equal(diskFullError(sqlite, "PullImage")?.code, Code.RESOURCE_EXHAUSTED);
  const wrapped = new BerthError(Code.INTERNAL, "layer could not be applied", { cause: errno("ENOSPC") });
  assert.equal(diskFullError(wrapped, "PullImage")?.code, Code.RESOURCE_EXHAUSTED);
});

test("other failures are not a full disk", () => {
  assert.equal(diskFullError(errno("EACCES", "/x"), "x"), undefined);
  assert.equal(diskFullError(Object.assign(new Error("constraint failed"), { errcode: 19 }), "x"), undefined);
  assert.equal(diskFullError(new BerthError(Code.NOT_FOUND, "image not found"), "x"), undefined);
  assert.equal(diskFullError("a string", "x"), undefined);
});

test("ENOSPC from a cgroup file (an empty v1 cpuset, a v2 cgroup with controllers below) is not a full disk", () => {
  assert.equal(diskFullError(errno("ENOSPC", "/sys/fs/cgroup/cpuset/berth/p1/cgroup.procs"), "RunPodSandbox"), undefined);
  // runc's own wording, no path on the error: the message names the cgroup file.
  const runc = new Error("runc create failed: unable to apply cgroup configuration: write /sys/fs/cgroup/cpuset/berth/c1/cgroup.procs: no space left on device");
  assert.equal(diskFullError(runc, "CreateContainer"), undefined);
  assert.equal(diskFullError(new BerthError(Code.INTERNAL, "x", { cause: errno("ENOSPC", "/sys/fs/cgroup/pids/a/cgroup.procs") }), "x"), undefined);
  // The error's path decides over its message: a full disk whose text mentions a cgroup file is still full.
  const copy = Object.assign(new Error("ENOSPC: no space left on device, copyfile '/sys/fs/cgroup/x/memory.stat'"), { code: "ENOSPC", path: tmpdir() });
  assert.equal(diskFullError(copy, "x")?.code, Code.RESOURCE_EXHAUSTED);
});
