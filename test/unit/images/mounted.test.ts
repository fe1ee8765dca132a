// The GC safety net's reading of /proc/self/mountinfo: layer ids from overlay lowerdir and
// upperdir options, relative or absolute, and nothing from other filesystems.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountedLayerIds } from "../../../src/images/layers/mounted.js";

test("overlay lowerdirs name the layers in use", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-mountinfo-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "mountinfo");
  await writeFile(file, [
    "49 27 0:41 / /run/c1/rootfs rw,relatime - overlay overlay rw,lowerdir=7324b63ec4bf/diff:0123456789ab/diff,upperdir=/var/lib/berth/containers/c1/upper,workdir=/w,uuid=on",
    "50 27 0:42 / /mnt rw - overlay overlay rw,lowerdir=/var/lib/berth/layers/aaaaaaaaaaaa/diff,upperdir=/var/lib/berth/layers/bbbbbbbbbbbb/diff,workdir=/x",
    "51 27 0:43 / /other rw - ext4 /dev/vda rw,lowerdir=cccccccccccc/diff",
    "52 27 0:44 / /odd rw - overlay overlay rw,lowerdir=/srv/notalayer:dddd/diff",
    "",
  ].join("\n"));
  assert.deepEqual([...(await mountedLayerIds(file))].sort(), ["0123456789ab", "7324b63ec4bf", "aaaaaaaaaaaa", "bbbbbbbbbbbb"]);
  assert.deepEqual([...(await mountedLayerIds(join(dir, "missing")))], []);
});
