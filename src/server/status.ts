// Error kinds to gRPC status codes: the one place the domain's errors meet the wire, as
// containerd's errdefs/grpc does. Every handler's failure passes through here.
import { status } from "@grpc/grpc-js";
import { codeName, type Code } from "../errors.js";

export function grpcStatus(kind: Code): status {
  return status[codeName(kind)];
}
