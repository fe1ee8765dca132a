// The CRI PortForward handler: maps the request to port-forward's pod checks and returns the
// streaming URL they issue.
import type { RuntimeServiceServer } from "../generated/runtime/v1/api.js";
import type { PortForwardPods } from "../streaming/portforward/pods.js";
import { unary } from "./call.js";

export function portForwardHandlers(pf: PortForwardPods): Pick<RuntimeServiceServer, "portForward"> {
  return { portForward: unary("PortForward", (req) => ({ url: pf.url(req) })) };
}
