// `berth daemon`: its flags over the config file, then the runtime. The entry point loads this
// module (and through it only the daemon's code) for this one command.
import { loadConfig } from "../config/config.js";
import { setLogLevel } from "../util/log.js";
import { runDaemon } from "./daemon.js";

/** The flags of `berth daemon` (parsed by the entry point, which owns usage errors). */
export const DAEMON_OPTIONS = {
  config: { type: "string", short: "c" },
  root: { type: "string" },
  state: { type: "string" },
  socket: { type: "string" },
  "log-level": { type: "string" },
} as const;

export type DaemonFlags = { [K in keyof typeof DAEMON_OPTIONS]?: string | undefined };

export async function daemonCommand(values: DaemonFlags): Promise<number> {
  const overrides = new Map<string, string>();
  if (values.root !== undefined) overrides.set("root", values.root);
  if (values.state !== undefined) overrides.set("state", values.state);
  if (values.socket !== undefined) overrides.set("socket", values.socket);
  if (values["log-level"] !== undefined) overrides.set("log.level", values["log-level"]);
  const config = loadConfig({ ...(values.config !== undefined ? { file: values.config } : {}), overrides });
  setLogLevel(config.log.level);
  return runDaemon(config);
}
