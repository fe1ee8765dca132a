// Mount propagation of a host path from mountinfo: the longest mount point above the path
// decides, "shared:N" is shared, "master:N" is slave, nothing is private.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMountinfo, propagationOf } from "../../../../src/containers/host/propagation.js";

const INFO = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "30 22 0:25 / /tmp rw,nosuid - tmpfs tmpfs rw",
  "31 30 0:26 / /tmp/shared\\040dir rw shared:7 - tmpfs tmpfs rw",
  "32 22 0:27 / /mnt/slave rw master:3 - tmpfs tmpfs rw",
].join("\n");

test("the mount holding the path decides its propagation", () => {
  const m = parseMountinfo(INFO);
  assert.equal(propagationOf(m, "/etc/hosts"), "shared");
  assert.equal(propagationOf(m, "/tmp/x"), "private");
  assert.equal(propagationOf(m, "/tmp/shared dir/sub"), "shared", "octal escapes decoded");
  assert.equal(propagationOf(m, "/tmp/shared dirx"), "private", "a name prefix is not a parent");
  assert.equal(propagationOf(m, "/mnt/slave"), "slave");
});
