// The `berth` command: `berth daemon` runs the CRI runtime; every other subcommand is a
// crictl-style client of a running daemon. Dispatch and exit codes live here, nothing else.
import { loadConfig, ConfigError, DEFAULT_CONFIG_FILE } from "./config/config.js";
import { parseArgs } from "node:util";
import { SocketInUseError } from "./daemon/socket.js";
import { setLogLevel, logger } from "./util/log.js";

/** The daemon's flags; a bad one is a usage error (exit 2), as for every command. */
function daemonFlags(args: string[]) {
  const options = {
    config: { type: "string", short: "c" },
    root: { type: "string" },
    state: { type: "string" },
    socket: { type: "string" },
    "log-level": { type: "string" },
  } as const;
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw Object.assign(new Error((err as Error).message), { name: "UsageError" });
  }
}

async function daemonCommand(args: string[]): Promise<number> {
  const { values } = daemonFlags(args);
  const overrides = new Map<string, string>();
  if (values.root !== undefined) overrides.set("root", values.root);
  if (values.state !== undefined) overrides.set("state", values.state);
  if (values.socket !== undefined) overrides.set("socket", values.socket);
  if (values["log-level"] !== undefined) overrides.set("log.level", values["log-level"]);
  const config = loadConfig({ ...(values.config !== undefined ? { file: values.config } : {}), overrides });
  setLogLevel(config.log.level);
  return (await import("./daemon/daemon.js")).runDaemon(config);
}

async function main(argv: string[]): Promise<number> {
  // Each side is loaded only when used: the daemon holds no CLI code (its YAML parser, its
  // commands) and a client command loads no daemon.
  if (argv[0] === "daemon") return daemonCommand(argv.slice(1));
  return (await import("./cli/main.js")).runCli(argv);
}

main(process.argv.slice(2)).then(
  // A command may set process.exitCode (exec passes the container command's code on).
  (code) => process.exit(code === 0 && typeof process.exitCode === "number" ? process.exitCode : code),
  (err: unknown) => {
    if (err instanceof Error && err.name === "UsageError") {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError || err instanceof SocketInUseError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(1);
    }
    const e = err as { code?: number; details?: string; message?: string };
    if (typeof e.code === "number" && typeof e.details === "string") {
      process.stderr.write(`berth: ${e.details}\n`);
      process.exit(1);
    }
    logger("main").fatal({ err }, "berth failed");
    process.stderr.write(`berth: ${e.message ?? String(err)}\n`);
    process.exit(1);
  },
);

export { DEFAULT_CONFIG_FILE };
