// CRI container handlers (lifecycle, status, exec, logs, resources, stats): each maps the
// request to the container service and its answer back to the wire.
import { invalid } from "../errors.js";
import type { RuntimeServiceServer } from "../generated/runtime/v1/api.js";
import type { ContainerService } from "../containers/service.js";
import { unary } from "./call.js";

type Handlers = Pick<
  RuntimeServiceServer,
  | "createContainer"
  | "startContainer"
  | "stopContainer"
  | "removeContainer"
  | "containerStatus"
  | "listContainers"
  | "execSync"
  | "exec"
  | "attach"
  | "reopenContainerLog"
  | "updateContainerResources"
  | "updatePodSandboxResources"
  | "containerStats"
  | "listContainerStats"
  | "podSandboxStats"
  | "listPodSandboxStats"
  | "checkpointContainer"
>;

function containerId(id: string, rpc: string): string {
  if (!id) throw invalid(`${rpc}: container_id is empty; give a container ID or a unique prefix`);
  return id;
}

export function containerHandlers(containers: ContainerService): Handlers {
  return {
    createContainer: unary("CreateContainer", async (req, call) => ({
      containerId: await containers.create(req, { gone: () => call.signal.aborted || call.remainingMs() <= 0, signal: call.signal }),
    })),
    startContainer: unary("StartContainer", async (req, call) => {
      await containers.start(containerId(req.containerId, "StartContainer"), call.signal);
      return {};
    }),
    // Stop and Remove succeed for an unknown ID: kubelet repeats them (CRI idempotence).
    stopContainer: unary("StopContainer", async (req) => {
      await containers.stop(containerId(req.containerId, "StopContainer"), req.timeout);
      return {};
    }),
    removeContainer: unary("RemoveContainer", async (req, call) => {
      await containers.remove(containerId(req.containerId, "RemoveContainer"), call.signal);
      return {};
    }),
    containerStatus: unary("ContainerStatus", (req) => containers.status(containerId(req.containerId, "ContainerStatus"), req.verbose)),
    listContainers: unary("ListContainers", (req) => ({ containers: containers.list(req.filter) })),
    execSync: unary("ExecSync", (req) => containers.execSync(containerId(req.containerId, "ExecSync"), req.cmd, req.timeout)),
    exec: unary("Exec", async (req) => ({ url: await containers.execUrl({ ...req, containerId: containerId(req.containerId, "Exec") }) })),
    attach: unary("Attach", async (req) => ({ url: await containers.attachUrl({ ...req, containerId: containerId(req.containerId, "Attach") }) })),
    reopenContainerLog: unary("ReopenContainerLog", async (req) => {
      await containers.reopenLog(containerId(req.containerId, "ReopenContainerLog"));
      return {};
    }),
    updateContainerResources: unary("UpdateContainerResources", async (req) => {
      containerId(req.containerId, "UpdateContainerResources");
      await containers.updateResources(req);
      return {};
    }),
    updatePodSandboxResources: unary("UpdatePodSandboxResources", async (req) => {
      if (!req.podSandboxId) throw invalid("UpdatePodSandboxResources: pod_sandbox_id is empty");
      await containers.updatePodResources(req);
      return {};
    }),
    containerStats: unary("ContainerStats", async (req) => ({ stats: await containers.stats.container(containerId(req.containerId, "ContainerStats")) })),
    listContainerStats: unary("ListContainerStats", async (req) => ({ stats: await containers.stats.listContainers(req.filter) })),
    podSandboxStats: unary("PodSandboxStats", async (req) => {
      if (!req.podSandboxId) throw invalid("PodSandboxStats: pod_sandbox_id is empty");
      return { stats: await containers.stats.pod(req.podSandboxId) };
    }),
    listPodSandboxStats: unary("ListPodSandboxStats", async (req) => ({ stats: await containers.stats.listPods(req.filter) })),
    checkpointContainer: unary("CheckpointContainer", async (req) => {
      containerId(req.containerId, "CheckpointContainer");
      await containers.checkpoint(req);
      return {};
    }),
  };
}
