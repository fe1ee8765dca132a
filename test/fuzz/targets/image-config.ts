// Fuzz target: image configs from a registry or an archive (src/images/registry/image-config.ts),
// then what the container service derives from them (command, env, working dir, volumes, stop signal).
import { parseImageConfig } from "../../../src/images/registry/image-config.js";
import { parseSignal } from "../../../src/containers/signals.js";
import { specImageConfig } from "../../../src/daemon/image-defaults.js";
import { imageVolumePaths } from "../../../src/containers/spec/mounts.js";
import { mergeEnv, processArgs, workingDir } from "../../../src/containers/spec/process.js";
import { holds, parseOrRefuse } from "../check.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function fuzz(data: Buffer): void {
  const cfg = parseOrRefuse(() => parseImageConfig(data));
  if (!cfg) return;
  holds(cfg.diffIds.every((d) => DIGEST.test(d)), "a diff_id that is not a sha256 digest was accepted");
  const c = cfg.config;
  for (const list of [c.env, c.volumes, c.exposedPorts, c.entrypoint ?? [], c.cmd ?? []]) {
    holds(Array.isArray(list) && list.every((s) => typeof s === "string"), "a string list holds a non-string");
  }
  holds(Object.values(c.labels).every((v) => typeof v === "string"), "a label value is not a string");
  // As the daemon hands it to the container service.
  const image = specImageConfig(c);
  parseOrRefuse(() => processArgs([], [], image));
  const env = parseOrRefuse(() => mergeEnv(image, [], "pod"));
  if (env) holds(env.every((e) => typeof e === "string"), "merged env holds a non-string");
  const dir = parseOrRefuse(() => workingDir("", image));
  if (dir !== undefined) holds(dir.startsWith("/"), `working dir ${JSON.stringify(dir)} is not absolute`);
  const vols = parseOrRefuse(() => imageVolumePaths(image, []));
  if (vols) holds(vols.every((v) => v.startsWith("/") && v !== "/" && !v.split("/").includes("..")), `volume paths ${JSON.stringify(vols)} escape`);
  if (image.StopSignal !== undefined) parseOrRefuse(() => parseSignal(image.StopSignal!));
}
