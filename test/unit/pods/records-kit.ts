// Pod records for tests of pod and container filters: two pods whose IDs share a prefix, a third.
// Only the fields the List paths read are meaningful.
import { PodSandboxConfig } from "../../../src/generated/runtime/v1/api.js";
import type { PodRecord } from "../../../src/pods/record.js";

// Two pods whose IDs share "ab", and a third.
export const POD_A = `ab1${"0".repeat(61)}`;
export const POD_B = `ab2${"0".repeat(61)}`;
export const POD_C = `c${"0".repeat(63)}`;

export function pod(id: string, createdAt: string): PodRecord {
  return {
    v: 1, id, phase: "ready", createdAt, runtimeHandler: "runc",
    config: PodSandboxConfig.toJSON(PodSandboxConfig.fromPartial({ metadata: { name: id.slice(0, 3), namespace: "ns", uid: id, attempt: 0 } })),
    ns: { network: "pod", ipc: "pod", pid: "container" }, pins: {}, shm: { path: "/s", owned: true }, dir: "/p", cgroup: { parent: "/", name: id, created: true } as unknown as PodRecord["cgroup"],
  };
}

