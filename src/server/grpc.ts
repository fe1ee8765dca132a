// Builds the gRPC server that speaks CRI v1: both services, every RPC answered (implemented
// handlers over an UNIMPLEMENTED default). Wiring only; logic lives in the services.
import { Server, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { ImageServiceService, RuntimeServiceService, type ImageServiceServer, type RuntimeServiceServer } from "../generated/runtime/v1/api.js";
import { unimplementedService } from "./unimplemented.js";

export interface CriHandlers {
  runtime: Partial<RuntimeServiceServer>;
  image: Partial<ImageServiceServer>;
}

export function createCriServer(handlers: CriHandlers): Server {
  const server = new Server({
    // kubelet sends up to 16 MiB; large ListContainers answers must not be cut.
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
    "grpc.max_send_message_length": -1,
  });
  server.addService(RuntimeServiceService, {
    ...unimplementedService(RuntimeServiceService),
    ...(handlers.runtime as UntypedServiceImplementation),
  });
  server.addService(ImageServiceService, {
    ...unimplementedService(ImageServiceService),
    ...(handlers.image as UntypedServiceImplementation),
  });
  return server;
}
