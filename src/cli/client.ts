// The CLI's gRPC connection to a Berth (or any CRI) socket: typed, promise-returning calls
// over one channel, with a per-call deadline so a dead daemon gives a clear error.
import { credentials, Metadata, type ServiceError, type Client, type CallOptions } from "@grpc/grpc-js";
import { ImageServiceClient, RuntimeServiceClient } from "../generated/runtime/v1/api.js";

export interface CriClient {
  runtime: RuntimeServiceClient;
  image: ImageServiceClient;
  endpoint: string;
  timeoutMs: number;
  close(): void;
}

export function endpointTarget(endpoint: string): string {
  if (endpoint.startsWith("unix://")) return endpoint;
  if (endpoint.startsWith("/")) return `unix://${endpoint}`;
  throw new Error(`runtime endpoint "${endpoint}": expected unix:///path/to.sock or an absolute socket path`);
}

/** `imageEndpoint`: crictl's -i (default: the runtime endpoint). */
export function connectCri(endpoint: string, timeoutMs = 10_000, imageEndpoint = endpoint): CriClient {
  const target = endpointTarget(endpoint);
  const opts = { "grpc.max_receive_message_length": -1 };
  const runtime = new RuntimeServiceClient(target, credentials.createInsecure(), opts);
  const image = new ImageServiceClient(endpointTarget(imageEndpoint), credentials.createInsecure(), opts);
  return {
    runtime,
    image,
    endpoint: target,
    timeoutMs,
    close() {
      runtime.close();
      image.close();
    },
  };
}

type UnaryMethod<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: Partial<CallOptions>,
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** Calls one unary RPC with a deadline: `await call(c, c.runtime, c.runtime.version, {})`. */
export function call<Req, Res>(c: CriClient, client: Client, method: UnaryMethod<Req, Res>, req: Req, timeoutMs = c.timeoutMs): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
