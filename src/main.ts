// The `berth` command: `berth daemon` runs the CRI runtime; every other subcommand is a
// crictl-style client of a running daemon. Dispatch and exit codes live here, nothing else; each
// side is imported only when chosen, so the daemon never loads the client (and the reverse).
import { ConfigError, DEFAULT_CONFIG_FILE } from "./config/config.js";
import { SocketInUseError } from "./daemon/socket.js";
import { UsageError } from "./cli/usage-error.js";
import { splitGlobal } from "./cli/global.js";
import { parse } from "./cli/args.js";
import { logger } from "./util/log.js";

async function main(argv: string[]): Promise<number> {
  const { globals, cmd, rest } = splitGlobal(argv);
  if (cmd === "daemon" && !globals.help) {
    const { DAEMON_OPTIONS, daemonCommand } = await import("./daemon/command.js");
    return daemonCommand(parse(rest, DAEMON_OPTIONS).values);
  }
  return (await import("./cli/main.js")).runCli(globals, cmd, rest);
}

/**
 * Exits once stdout and stderr have taken everything written: when they are sockets or pipes
 * kept asynchronous (a child's stdio is a socketpair), process.exit would drop a tail still queued
 * (an exec -i's last output).
 */
function exitFlushed(code: number): void {
  let waiting = 2;
  const done = () => {
    if (--waiting === 0) process.exit(code);
  };
  for (const s of [process.stdout, process.stderr]) {
    if (s.writableLength === 0 || s.destroyed) done();
    else s.write("", done);
  }
}

main(process.argv.slice(2)).then(
  // A command may set process.exitCode (exec passes the container command's code on).
  (code) => exitFlushed(code === 0 && typeof process.exitCode === "number" ? process.exitCode : code),
  (err: unknown) => {
    if (err instanceof UsageError) {
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
