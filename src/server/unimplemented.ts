// Fills every RPC of a service definition with a handler that answers UNIMPLEMENTED naming
// the RPC, so a partial implementation still answers every call the CRI defines.
import { status, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { logger } from "../util/log.js";

const log = logger("cri");

export function unimplementedService(def: ServiceDefinition): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(def)) {
    const rpc = method.path.replace(/^\/runtime\.v1\./, "");
    const message = `${rpc} is not implemented by Berth yet`;
    if (method.responseStream) {
      impl[key] = (call: { emit(e: "error", err: object): void }) => {
        log.debug({ rpc }, "unimplemented");
        call.emit("error", { code: status.UNIMPLEMENTED, details: message });
      };
    } else {
      impl[key] = (_call: unknown, callback: (err: object, value: null) => void) => {
        log.debug({ rpc }, "unimplemented");
        callback({ code: status.UNIMPLEMENTED, details: message }, null);
      };
    }
  }
  return impl;
}
