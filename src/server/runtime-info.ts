// CRI handlers for runtime-wide RPCs: Version, Status, RuntimeConfig, UpdateRuntimeConfig.
// Each maps the request to the RuntimeInfo service and its answer back to the wire types.
import type { RuntimeServiceServer } from "../generated/runtime/v1/api.js";
import { CgroupDriver } from "../generated/runtime/v1/api.js";
import type { RuntimeInfo } from "../runtime/info.js";
import { invalid } from "../errors.js";
import { unary } from "./call.js";

type Handlers = Pick<RuntimeServiceServer, "version" | "status" | "runtimeConfig" | "updateRuntimeConfig">;

const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

export function runtimeInfoHandlers(info: RuntimeInfo): Handlers {
  return {
    version: unary("Version", () => info.version()),
    status: unary("Status", async (req) => ({
      status: { conditions: await info.conditions() },
      info: req.verbose ? await info.verboseInfo() : {},
      runtimeHandlers: await info.runtimeHandlers(),
      features: info.features(),
    })),
    runtimeConfig: unary("RuntimeConfig", () => ({
      linux: { cgroupDriver: info.cgroupDriver === "systemd" ? CgroupDriver.SYSTEMD : CgroupDriver.CGROUPFS },
    })),
    updateRuntimeConfig: unary("UpdateRuntimeConfig", (req) => {
      const cidr = req.runtimeConfig?.networkConfig?.podCidr ?? "";
      for (const c of cidr.split(",").filter((s) => s !== "")) {
        if (!CIDR.test(c.trim())) throw invalid(`runtime_config.network_config.pod_cidr "${cidr}": "${c}" is not a CIDR such as 10.88.0.0/16`);
      }
      info.setPodCidr(cidr);
      return {};
    }),
  };
}
