// Exec and Attach: the RPCs validate and hand out a streaming URL; when the client connects, the
// session is joined to a `conmon --exec-attach` process (exec) or the container's own conmon (attach).
import { failedPrecondition, invalid } from "../errors.js";
import type { AttachRequest, ExecRequest } from "../generated/runtime/v1/api.js";
import type { StreamRequests, StreamKind } from "../streaming/server.js";
import type { RemoteCommandSession, SessionResult } from "../streaming/remotecommand/session.js";
import { AttachSocket } from "../oci/attach-socket.js";
import { logger } from "../util/log.js";
import type { ContainerContext } from "./context.js";
import { bridge } from "./stream-bridge.js";

const log = logger("stream");
/** After the exec process exited: how long its last output may take to come through. */
const OUTPUT_DRAIN_MS = 2_000;

/** Where the RPCs put requests and get URLs (the streaming server). */
export interface StreamIssuer {
  issue<K extends StreamKind>(kind: K, request: StreamRequests[K]): string;
}

function checkStreams(rpc: string, r: { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): void {
  if (r.tty && r.stderr) throw invalid(`${rpc}: tty and stderr cannot both be set (a terminal has one output); drop stderr`);
  if (!r.stdin && !r.stdout && !r.stderr) throw invalid(`${rpc}: none of stdin, stdout and stderr is set; ask for at least one`);
}

async function runningContainer(ctx: ContainerContext, ref: string, rpc: string): Promise<string> {
  const c = ctx.get(ref);
  if (c.rec.phase !== "running") throw failedPrecondition(`${rpc}: container "${c.rec.id}" is ${c.rec.phase}, not running`);
  const oci = ctx.deps.oci;
  if (c.rec.process && !oci.known(c.rec.id)) await oci.adopt(c.rec.process);
  return c.rec.id;
}

export async function execUrl(ctx: ContainerContext, issuer: StreamIssuer | undefined, req: ExecRequest): Promise<string> {
  if (req.cmd.length === 0 || req.cmd[0] === "") throw invalid("Exec: cmd is empty; give the command to run");
  checkStreams("Exec", req);
  const id = await runningContainer(ctx, req.containerId, "Exec");
  if (!issuer) throw failedPrecondition("Exec: the streaming server is not running");
  return issuer.issue("exec", { ...req, containerId: id });
}

export async function attachUrl(ctx: ContainerContext, issuer: StreamIssuer | undefined, req: AttachRequest): Promise<string> {
  checkStreams("Attach", req);
  const id = await runningContainer(ctx, req.containerId, "Attach");
  if (!issuer) throw failedPrecondition("Attach: the streaming server is not running");
  return issuer.issue("attach", { ...req, containerId: id });
}

/** Runs an exec session to its end; the exit code goes back to the client. */
export async function runExec(ctx: ContainerContext, req: ExecRequest, session: RemoteCommandSession): Promise<SessionResult> {
  const id = await runningContainer(ctx, req.containerId, "Exec");
  const ex = await ctx.deps.oci.execAttach(id, { cmd: req.cmd, tty: req.tty, stdin: req.stdin, initialSize: session.lastSize });
  const onResize = (s: { width: number; height: number }): void => void ex.resize(s.width, s.height);
  const onGone = (): void => void ex.kill();
  try {
    session.events.on("resize", onResize);
    session.events.once("gone", onGone);
    if (session.isGone) await ex.kill();
    // A size that arrived while conmon was starting.
    if (req.tty && session.lastSize) await ex.resize(session.lastSize.width, session.lastSize.height);
    const io = bridge(ex.socket, session, () => {
      log.warn({ id, exec: ex.id }, "exec client stopped reading its output; ending the session");
      void ex.kill();
    });
    const code = await ex.exit;
    await Promise.race([io.outputDone, new Promise((r) => setTimeout(r, OUTPUT_DRAIN_MS).unref())]);
    const result: SessionResult = io.overflowed() ? { error: "the client did not read the output; the session was ended" } : { exitCode: code };
    // The client gets its status now; conmon's exit and the file cleanup follow (still inside the session).
    await session.finish(result);
    return result;
  } finally {
    session.events.off("resize", onResize);
    session.events.off("gone", onGone);
    await ex.cleanup();
  }
}

/** Joins the client to the container's stdio until its output ends, the client leaves, or (stdin, not stdin_once, no tty) stdin ends. */
export async function runAttach(ctx: ContainerContext, req: AttachRequest, session: RemoteCommandSession): Promise<SessionResult> {
  const id = await runningContainer(ctx, req.containerId, "Attach");
  const oci = ctx.deps.oci;
  const sock = await AttachSocket.connect(oci.attachSocketPath(id), `attach to container "${id}"`);
  const onResize = (s: { width: number; height: number }): void => {
    oci.resizeTerminal(id, s.width, s.height).catch(() => undefined);
  };
  try {
    session.events.on("resize", onResize);
    if (req.tty && session.lastSize) onResize(session.lastSize);
    let overflow = false;
    const io = bridge(sock, session, () => {
      overflow = true;
      sock.close();
    });
    const gone = new Promise<void>((resolve) => {
      if (session.isGone) resolve();
      session.events.once("gone", () => resolve());
    });
    // CRI-O's rule: stdin EOF ends the attach when the container keeps its stdin open (not stdin_once) and has no tty.
    const stdinOnce = ctx.get(id).config.stdinOnce;
    const stdinEnds = req.stdin && !stdinOnce && !req.tty ? io.stdinDone : new Promise<void>(() => undefined);
    await Promise.race([io.outputDone, gone, stdinEnds]);
    if (overflow) return { error: "the client did not read the output; the attach was ended" };
    return { exitCode: 0 };
  } finally {
    session.events.off("resize", onResize);
    // Closing our end detaches; the container keeps running.
    sock.close();
  }
}
