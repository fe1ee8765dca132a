// Benchmark runner: `npm run bench [names...]` runs each benchmark and prints `name: value unit`
// lines. Benchmarks talk to a real daemon over one persistent gRPC connection.
import { daemonBench } from "./daemon.js";
import { pullBench } from "./pull.js";
import { pullSyncBench } from "./pull-sync.js";
import { podsBench } from "./pods.js";
import { ociBench } from "./oci.js";
import { containersBench } from "./containers.js";
import { streamingBench } from "./streaming.js";
import { h2FrontBench } from "./h2-front.js";
import { unpackBench } from "./unpack.js";
import { unpackTarBench } from "./unpack-tar.js";
import { bombBench } from "./bomb.js";
import { eventsBench } from "./events.js";
import { observeBench } from "./observe.js";
import { imageVolumesBench } from "./image-volumes.js";
import { cdiBench } from "./cdi.js";
import { recoveryBench } from "./recovery.js";
import { portForwardBench } from "./portforward.js";
import { usernsBench } from "./userns.js";
import { memoryBench } from "./memory.js";
import { latencyBench } from "./latency.js";
import { cyclesBench } from "./cycles.js";
import { compareBench } from "./compare.js";
import { traceBench } from "./trace.js";
import { spawnBench } from "./spawn.js";
import { emit, type Emit } from "./emit.js";

const BENCHES: Record<string, (emit: Emit) => Promise<void>> = {
  daemon: daemonBench, pull: pullBench, "pull-sync": pullSyncBench, pods: podsBench, oci: ociBench, containers: containersBench, streaming: streamingBench,
  h2: h2FrontBench, unpack: unpackBench, "unpack-tar": unpackTarBench, bomb: bombBench, events: eventsBench, observe: observeBench, cdi: cdiBench, recovery: recoveryBench, portforward: portForwardBench, userns: usernsBench,
  "image-volumes": imageVolumesBench, memory: memoryBench, latency: latencyBench, cycles: cyclesBench, compare: compareBench, trace: traceBench, spawn: spawnBench,
};

const wanted = process.argv.slice(2);
for (const [name, fn] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  await fn(emit);
}
