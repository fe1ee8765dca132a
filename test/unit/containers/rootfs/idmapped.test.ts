// The pure parts of idmapped rootfs and volumes: which host ids the pod's root is, and how
// mappings are written for the kernel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type BerthError, Code } from "../../../../src/errors.js";
import { hostRoot } from "../../../../src/containers/rootfs/idmapped.js";
import { mapText } from "../../../../src/oci/userns.js";

test("the pod's root on the host is the mapping of container id 0; none is FailedPrecondition", () => {
  assert.equal(hostRoot([{ containerId: 1000, hostId: 5000, length: 10 }, { containerId: 0, hostId: 65536 * 3, length: 65536 }], "uid"), 65536 * 3);
  assert.throws(() => hostRoot([{ containerId: 1, hostId: 5000, length: 10 }], "gid"), (e: BerthError) => e.code === Code.FAILED_PRECONDITION && /gid mappings do not map container id 0/.test(e.message));
});

test("uid_map text: one `inside outside length` line per mapping", () => {
  assert.equal(mapText([{ containerId: 0, hostId: 65536, length: 65536 }, { containerId: 70000, hostId: 1, length: 2 }]), "0 65536 65536\n70000 1 2\n");
});
