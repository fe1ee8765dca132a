// Fuzz target: CRI requests as kubelet (or anything on the socket) sends them: protobuf bytes
// through the generated decoders of every RuntimeService and ImageService method, then the pure
// request checks the services run before making anything (pod spec, container process, env,
// mounts, resources, image references). Refusals must be BerthErrors the caller is to blame for.
import { type CreateContainerRequest, ImageServiceService, type PullImageRequest, type RunPodSandboxRequest, RuntimeServiceService } from "../../../src/generated/runtime/v1/api.js";
import { podCgroup } from "../../../src/oci/cgroups-names.js";
import { podSpec } from "../../../src/pods/spec.js";
import { parseReference } from "../../../src/images/registry/reference.js";
import { imageVolumePaths } from "../../../src/containers/spec/mounts.js";
import { mergeEnv, processArgs, workingDir } from "../../../src/containers/spec/process.js";
import { buildResources } from "../../../src/containers/spec/resources.js";
import { holds, parseOrRefuse, split } from "../check.js";

type Method = { path: string; requestDeserialize: (b: Buffer) => unknown };
const METHODS: Method[] = [...Object.values(RuntimeServiceService), ...Object.values(ImageServiceService)];
const IMAGE = { Entrypoint: ["/bin/sh"], Cmd: ["-c", "true"], Env: ["PATH=/bin"], WorkingDir: "/w", Volumes: { "/data": {} } };

function runPodSandbox(req: RunPodSandboxRequest, systemd: boolean): void {
  const spec = parseOrRefuse(() =>
    podSpec(req, {
      defaultHandler: "runc",
      knownHandlers: ["runc", "crun"],
      podCgroup: (parent, uid) => podCgroup(systemd ? "systemd" : "cgroupfs", parent, "", uid),
    }),
  );
  if (!spec) return;
  holds(spec.cgroup.path.startsWith("/") && !spec.cgroup.path.split("/").includes(".."), `pod cgroup ${spec.cgroup.path}`);
  holds(!/[\0/]/.test(spec.meta.name + spec.meta.namespace + spec.meta.uid), "pod metadata with / or NUL accepted");
  holds(spec.hostname.length > 0 && !/[\s\0]/.test(spec.hostname), `hostname ${JSON.stringify(spec.hostname)}`);
  for (const p of spec.ports) holds(p.hostPort >= 0 && p.hostPort <= 65535 && p.containerPort >= 0 && p.containerPort <= 65535, `port ${JSON.stringify(p)}`);
}

function createContainer(req: CreateContainerRequest): void {
  const c = req.config;
  if (!c) return;
  parseOrRefuse(() => processArgs(c.command, c.args, IMAGE));
  const env = parseOrRefuse(() => mergeEnv(IMAGE, c.envs, "pod"));
  if (env) holds(env.every((e) => !e.includes("\0")), "an env entry with NUL accepted");
  const dir = parseOrRefuse(() => workingDir(c.workingDir, IMAGE));
  if (dir !== undefined) holds(dir.startsWith("/") && !dir.split("/").includes(".."), `working dir ${dir}`);
  parseOrRefuse(() => imageVolumePaths(IMAGE, c.mounts));
  const r = parseOrRefuse(() => buildResources(c.linux?.resources, { cgroupV2: true, swapController: true }));
  if (r?.memory?.limit !== undefined) holds(Number.isSafeInteger(r.memory.limit), `memory limit ${r.memory.limit}`);
}

export function fuzz(data: Buffer): void {
  const { sel, rest } = split(data);
  const m = METHODS[sel % METHODS.length]!;
  let req: unknown;
  try {
    req = m.requestDeserialize(rest);
  } catch (err) {
    // grpc-js answers a request that does not decode with INTERNAL before any handler runs.
    holds(err instanceof Error, `decoder threw a non-Error ${String(err)}`);
    return;
  }
  if (m.path.endsWith("/RunPodSandbox")) runPodSandbox(req as RunPodSandboxRequest, sel >= 128);
  else if (m.path.endsWith("/CreateContainer")) createContainer(req as CreateContainerRequest);
  else if (m.path.endsWith("/PullImage")) {
    const ref = (req as PullImageRequest).image?.image ?? "";
    const parsed = parseOrRefuse(() => parseReference(ref));
    if (parsed) holds(parsed.domain !== "" && parsed.path !== "", `reference ${JSON.stringify(ref)} parsed without domain/path`);
  }
}
