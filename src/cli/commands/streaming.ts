// `berth exec -i/-t`, `berth attach` and `berth port-forward`: the Exec/Attach/PortForward RPCs,
// then the streaming URL driven with Berth's own SPDY client. They parse their own flags:
// here -i is --interactive and -t is --tty (as in crictl), not the client's image endpoint/timeout.
import { parseArgs } from "node:util";
import { parseDuration } from "../../config/config.js";
import { call, type CriClient } from "../client.js";
import { UsageError } from "../output.js";
import { splitExecArgs } from "./containers.js";
import { runRemoteCommand } from "../../streaming/remotecommand/client.js";
import { DEFAULT_DETACH_KEYS, DetachStream, parseDetachKeys } from "../stream/detach-keys.js";
import { parsePortMapping, startPortForward } from "../stream/port-forward.js";
import { openTerminal, type LocalTerminal } from "../stream/terminal.js";

export const STREAM_USAGE = `  berth exec [-i] [-t] [--detach-keys KEYS] ID CMD [ARG...]   run a command in a container; without -i/-t it waits and passes the exit code on (ExecSync)
  berth attach [-i] [-t] [--detach-keys KEYS] ID   attach to a running container's stdio (detaching leaves it running)
  berth port-forward [--address ADDR] POD_ID LOCAL:REMOTE...   forward local ports to localhost:REMOTE in the pod (LOCAL 0 or empty: any free port)
    -i/--interactive: send our stdin; -t/--tty: a terminal (raw mode, resizes); detach keys default ${DEFAULT_DETACH_KEYS} ("" disables)
`;

const OPTIONS = {
  "runtime-endpoint": { type: "string", short: "r" },
  config: { type: "string", short: "c" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
  interactive: { type: "boolean", short: "i" },
  tty: { type: "boolean", short: "t" },
  "detach-keys": { type: "string" },
  address: { type: "string" },
} as const;

export type StreamCommand = "exec" | "attach" | "port-forward";
export const STREAM_COMMANDS: readonly string[] = ["exec", "attach", "port-forward"];

export interface StreamArgs {
  endpoint: string | undefined;
  config: string | undefined;
  timeoutMs: number;
  help: boolean;
  interactive: boolean;
  tty: boolean;
  detachKeys: Buffer;
  address: string;
  positionals: string[];
}

/** Flags up to the container ID (exec: everything after the ID is the command, flags included). */
export function parseStreamArgs(cmd: StreamCommand, args: readonly string[]): StreamArgs {
  const takesValue = new Set(["-r", "--runtime-endpoint", "-c", "--config", "--timeout", "--detach-keys", "--address"]);
  const { flags, rest } = cmd === "exec" ? splitExecArgs(args, takesValue) : { flags: [...args], rest: [] };
  let parsed;
  try {
    parsed = parseArgs({ args: flags, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const t = v.timeout;
  const timeoutMs = t === undefined ? 10_000 : /^\d+$/.test(t) ? Number(t) * 1000 : parseDuration(t);
  if (timeoutMs === undefined) throw new UsageError(`--timeout "${t}": expected a duration such as 10s`);
  let detachKeys: Buffer;
  try {
    detachKeys = parseDetachKeys(v["detach-keys"] ?? DEFAULT_DETACH_KEYS);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    endpoint: v["runtime-endpoint"],
    config: v.config,
    timeoutMs,
    help: !!v.help,
    interactive: !!v.interactive,
    tty: !!v.tty,
    detachKeys,
    address: v.address ?? "127.0.0.1",
    positionals: [...parsed.positionals, ...rest],
  };
}

/**
 * Runs a session with Berth's SPDY client; with -t at a terminal, in raw mode with resizes.
 * Typing the detach keys (-i) cuts the connection and leaves the process running.
 */
async function session(url: string, a: StreamArgs): Promise<number> {
  const terminal: LocalTerminal | undefined = a.tty && process.stdin.isTTY ? openTerminal() : undefined;
  let detached = false;
  let abort: (() => void) | undefined;
  const stdin = a.interactive
    ? process.stdin.pipe(new DetachStream(a.detachKeys, () => {
        detached = true;
        abort?.();
      }))
    : undefined;
  try {
    const r = await runRemoteCommand(url, {
      stdin,
      stdout: process.stdout,
      stderr: a.tty ? undefined : process.stderr,
      tty: a.tty,
      resizes: terminal?.sizes(),
      onReady: (cut) => (abort = cut),
    });
    if (detached) {
      terminal?.restore();
      process.stderr.write("\r\nberth: detached (the process keeps running)\n");
      return 0;
    }
    if ("error" in r) throw new Error(r.error);
    return r.exitCode;
  } finally {
    terminal?.restore();
    process.stdin.unpipe();
    process.stdin.pause();
  }
}

/** `berth exec`: streaming with -i/-t, else ExecSync as before. */
export async function execCommand(c: CriClient, a: StreamArgs): Promise<number> {
  const [id, ...cmd] = a.positionals;
  if (!id || cmd.length === 0) throw new UsageError("berth exec: expected ID CMD [ARG...]");
  if (!a.interactive && !a.tty) {
    const r = await call(c, c.runtime, c.runtime.execSync, { containerId: id, cmd, timeout: 0n }, Math.max(c.timeoutMs, 24 * 3600_000));
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.exitCode;
  }
  const { url } = await call(c, c.runtime, c.runtime.exec, { containerId: id, cmd, tty: a.tty, stdin: a.interactive, stdout: true, stderr: !a.tty });
  return session(url, a);
}

/** `berth attach [-i] [-t] ID`. */
export async function attachCommand(c: CriClient, a: StreamArgs): Promise<number> {
  const [id, ...extra] = a.positionals;
  if (!id || extra.length) throw new UsageError("berth attach: expected one container ID");
  const { url } = await call(c, c.runtime, c.runtime.attach, { containerId: id, stdin: a.interactive, tty: a.tty, stdout: true, stderr: !a.tty });
  return session(url, a);
}

/** `berth port-forward POD_ID LOCAL:REMOTE...`: runs until interrupted or the runtime ends it. */
export async function portForwardCommand(c: CriClient, a: StreamArgs): Promise<number> {
  const [pod, ...specs] = a.positionals;
  if (!pod || specs.length === 0) throw new UsageError("berth port-forward: expected POD_ID LOCAL:REMOTE...");
  let mappings;
  try {
    mappings = specs.map(parsePortMapping);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { url } = await call(c, c.runtime, c.runtime.portForward, { podSandboxId: pod, port: mappings.map((m) => m.remote) });
  const pf = await startPortForward(url, mappings, a.address, (line) => process.stdout.write(`${line}\n`));
  const stop = () => pf.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await pf.done;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return 0;
}

export function runStreamCommand(cmd: StreamCommand, c: CriClient, a: StreamArgs): Promise<number> {
  if (cmd === "exec") return execCommand(c, a);
  if (cmd === "attach") return attachCommand(c, a);
  return portForwardCommand(c, a);
}
