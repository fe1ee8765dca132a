// Pods and containers by state and the conmon monitors alive, computed at each scrape from the
// services' in-memory records (no I/O: a walk over a few hundred objects).
import { Gauge, type Registry } from "prom-client";
import type { ContainerService } from "../containers/service.js";
import type { PodService } from "../pods/service.js";
import { PodSandboxState } from "../generated/runtime/v1/api.js";

export function stateMetrics(registry: Registry, pods: PodService, containers: ContainerService): void {
  new Gauge({
    name: "berth_pods",
    help: "Pod sandboxes by state (ready, notready).",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      let ready = 0;
      let notready = 0;
      for (const p of pods.list({ filter: undefined })) {
        if (p.state === PodSandboxState.SANDBOX_READY) ready++;
        else notready++;
      }
      this.set({ state: "ready" }, ready);
      this.set({ state: "notready" }, notready);
    },
  });
  new Gauge({
    name: "berth_containers",
    help: "Containers by state (created, running, exited); ones still being created are not counted.",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const n = { created: 0, running: 0, exited: 0 };
      for (const c of containers.ctx.containers.values()) if (c.rec.phase !== "creating") n[c.rec.phase]++;
      for (const [state, v] of Object.entries(n)) this.set({ state }, v);
    },
  });
  new Gauge({
    name: "berth_conmon_processes",
    help: "conmon monitors Berth started that should be alive: one per created or running container.",
    registers: [registry],
    collect() {
      let n = 0;
      for (const c of containers.ctx.containers.values())
        if ((c.rec.phase === "created" || c.rec.phase === "running") && c.rec.process?.conmonPid) n++;
      this.set(n);
    },
  });
}
