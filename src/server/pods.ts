// CRI pod sandbox handlers: RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus,
// ListPodSandbox. Each maps the request to the pod service and its answer back to the wire.
import type { RuntimeServiceServer } from "../generated/runtime/v1/api.js";
import { invalid } from "../errors.js";
import type { PodService } from "../pods/service.js";
import { unary } from "./call.js";

type Handlers = Pick<RuntimeServiceServer, "runPodSandbox" | "stopPodSandbox" | "removePodSandbox" | "podSandboxStatus" | "listPodSandbox">;

function podId(id: string, rpc: string): string {
  if (!id) throw invalid(`${rpc}: pod_sandbox_id is empty; give a pod sandbox ID or a unique prefix`);
  return id;
}

export function podHandlers(pods: PodService): Handlers {
  return {
    runPodSandbox: unary("RunPodSandbox", async (req) => ({ podSandboxId: await pods.run(req) })),
    // Stop and Remove succeed for an unknown ID: kubelet repeats them (CRI idempotence).
    stopPodSandbox: unary("StopPodSandbox", async (req) => {
      await pods.stop(podId(req.podSandboxId, "StopPodSandbox"));
      return {};
    }),
    removePodSandbox: unary("RemovePodSandbox", async (req, call) => {
      await pods.remove(podId(req.podSandboxId, "RemovePodSandbox"), call.signal);
      return {};
    }),
    podSandboxStatus: unary("PodSandboxStatus", (req) => pods.status(podId(req.podSandboxId, "PodSandboxStatus"), req.verbose)),
    listPodSandbox: unary("ListPodSandbox", (req) => ({ items: pods.list(req) })),
  };
}
