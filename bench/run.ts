// Benchmark runner: `npm run bench [names...]` runs each benchmark and prints `name: value unit`
// lines. Benchmarks talk to a real daemon over one persistent gRPC connection.
import { daemonBench } from "./daemon.js";
import { pullBench } from "./pull.js";
import { podsBench } from "./pods.js";
import { ociBench } from "./oci.js";
import { containersBench } from "./containers.js";
import { streamingBench } from "./streaming.js";
import { h2FrontBench } from "./h2-front.js";
import { portForwardBench } from "./portforward.js";

export type Emit = (name: string, value: number, unit: string) => void;
const BENCHES: Record<string, (emit: Emit) => Promise<void>> = { daemon: daemonBench, pull: pullBench, pods: podsBench, oci: ociBench, containers: containersBench, streaming: streamingBench, h2: h2FrontBench, portforward: portForwardBench };

const emit: Emit = (name, value, unit) => process.stdout.write(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
const wanted = process.argv.slice(2);
for (const [name, fn] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  await fn(emit);
}
