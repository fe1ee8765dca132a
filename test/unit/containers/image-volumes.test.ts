// Image volumes' pure parts: the request checks and image lookup (NotFound names the image), status
// mounts carrying the image_ref, and the volume's layers held from GC like the container's own.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ContainerContext, type ContainerDeps } from "../../../src/containers/context.js";
import { resolveImageVolumes, type VolumeImages } from "../../../src/containers/image-volumes.js";
import { containerFromRecord, heldLayers, type ContainerRecord } from "../../../src/containers/record.js";
import { mountsOf } from "../../../src/containers/status-mounts.js";
import { BerthError, Code } from "../../../src/errors.js";
import { ContainerConfig, Mount } from "../../../src/generated/runtime/v1/api.js";

const ID = `sha256:${"a".repeat(64)}`;
const images: VolumeImages = {
  volumeImage: (ref) => (ref === ID || ref === "reg/tools:1" ? { id: ID, chainIds: ["sha256:l1", "sha256:l2"], imageRef: `reg/tools@sha256:${"m".repeat(64)}` } : undefined),
  lowerDirs: () => [],
  layersDir: "/layers",
  collect: async () => undefined,
};
const imageMount = (o: Partial<Mount> = {}): Mount => Mount.fromPartial({ containerPath: "/tools", image: { image: ID }, readonly: true, ...o });

test("image mounts are found and checked before anything is made", () => {
  const uses = resolveImageVolumes(images, [Mount.fromPartial({ containerPath: "/h", hostPath: "/tmp" }), imageMount({ imageSubPath: "bin" })]);
  assert.deepEqual(uses, [{ mount: 1, id: ID, chainIds: ["sha256:l1", "sha256:l2"], imageRef: `reg/tools@sha256:${"m".repeat(64)}` }]);
  assert.throws(() => resolveImageVolumes(images, [imageMount({ image: { image: "reg/missing:1" } as never })]),
    (e: unknown) => e instanceof BerthError && e.code === Code.NOT_FOUND && /"reg\/missing:1"/.test(e.message) && /pull it first/.test(e.message));
  const bad = (m: Mount, re: RegExp) =>
    assert.throws(() => resolveImageVolumes(images, [m]), (e: unknown) => e instanceof BerthError && e.code === Code.INVALID_ARGUMENT && re.test(e.message));
  bad(imageMount({ hostPath: "/tmp" }), /host_path "\/tmp" and image .* are exclusive/);
  bad(imageMount({ image: { image: "" } as never }), /image\.image is empty/);
  bad(Mount.fromPartial({ containerPath: "/h", hostPath: "/tmp", imageSubPath: "x" }), /only meaningful with an image/);
});

function record(o: Partial<ContainerRecord>): ContainerRecord {
  return {
    v: 1, id: "c".repeat(64), podId: "p".repeat(64), phase: "created", createdAt: "1", startedAt: "0", finishedAt: "0", exitCode: 0, reason: "", message: "",
    config: ContainerConfig.toJSON(ContainerConfig.fromPartial({ metadata: { name: "c", attempt: 0 }, mounts: [imageMount({ imageSubPath: "bin" })] })),
    resources: null, image: { name: "busybox", id: "sha256:x", chainIds: ["sha256:base"] }, paths: { bundle: "/b", dir: "/d" },
    mounted: false, logPath: "", cgroupsPath: "/c", cgroupPath: "/c", user: { uid: 0, gid: 0, additionalGids: [] }, ...o,
  };
}

test("status mounts carry the image_ref; the volume's layers are held like the container's own", () => {
  const use = { mount: 0, id: ID, chainIds: ["sha256:l1"], imageRef: "reg/tools@sha256:m" };
  const c = containerFromRecord(record({ imageVolumes: [use] }));
  const [m] = mountsOf(c);
  assert.equal(m?.image?.image, ID);
  assert.equal(m?.image?.imageRef, "reg/tools@sha256:m");
  assert.equal(m?.imageSubPath, "bin");
  assert.equal(m?.hostPath, "");
  assert.deepEqual(heldLayers(c.rec), ["sha256:base", "sha256:l1"]);

  const ctx = new ContainerContext({ store: { put: () => undefined, delete: () => undefined }, pods: {} } as unknown as ContainerDeps);
  ctx.save(c);
  assert.ok(ctx.layerInUse("sha256:l1") && ctx.layerInUse("sha256:base"));
  ctx.drop(c);
  assert.ok(!ctx.layerInUse("sha256:l1"), "released with the record");
});
