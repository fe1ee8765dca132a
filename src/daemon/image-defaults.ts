// An image's container defaults (parsed from its config) in the shape the container service's
// spec builder reads: the one mapping, used by the services' wiring and the image-config fuzz target.
import type { ImageConfig } from "../containers/spec/index.js";
import type { ContainerDefaults } from "../images/registry/image-config.js";

export function specImageConfig(c: ContainerDefaults): ImageConfig {
  return {
    ...(c.entrypoint ? { Entrypoint: c.entrypoint } : {}),
    ...(c.cmd ? { Cmd: c.cmd } : {}),
    Env: c.env,
    ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
    ...(c.user ? { User: c.user } : {}),
    ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
    Volumes: Object.fromEntries(c.volumes.map((v) => [v, {}])),
  };
}
