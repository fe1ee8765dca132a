// Dials localhost:<port> inside pods' network namespaces for port-forward. Node cannot setns,
// so one small helper per pod in use runs there and passes each connected socket back.
//
// Why this design (over socat): per pod with live port-forwards there is one helper process
// (`nsenter --net=<pin> node netns-dial-helper.js`), started on the first dial and stopped when
// the last user releases it or the pod stops. It dials 127.0.0.1 then ::1 and hands the
// connected socket to the daemon over the IPC channel (SCM_RIGHTS); a socket keeps its network
// namespace wherever its fd goes, so the daemon copies bytes directly between the stream and the
// pod's socket: no process per connection (socat STDIO) and no extra unix-socket hop through a
// forking relay (socat UNIX-LISTEN,fork), and the IPv6 fallback is ordinary code. The helper
// exits by itself when the daemon's IPC channel closes (the daemon died), and is killed by PID
// otherwise. Host-network pods need no helper: the daemon dials on the host.
import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { logger } from "../util/log.js";
import { dialLocalhost, isPort } from "./localhost-dial.js";

const log = logger("port-forward");
const TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const HELPER = fileURLToPath(new URL("./netns-dial-helper.js", import.meta.url));
/** A dial answered within this (the helper's own connect timeout is 2 × 10 s at most). */
const ANSWER_TIMEOUT_MS = 30_000;

export interface DialerLease {
  /** A connected socket to localhost:<port> in the pod (tracked: destroyed when the pod stops). */
  dial(port: number): Promise<Socket>;
  /** Ends this user's claim; the helper stops once no one holds one. Safe to repeat. */
  release(): void;
}

interface Pending {
  resolve(s: Socket): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** One helper process in one pod's network namespace. */
class NetnsHelper {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = "";
  private gone: Error | undefined;
  readonly exited: Promise<void>;
  /** Settles when the helper said it runs in the namespace, or failed to get there. */
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;

  constructor(readonly netns: string) {
    // The pin path is on the command line too, so process listings (and leak checks) see whose it is.
    this.child = spawn("nsenter", [`--net=${netns}`, "--", process.execPath, "--max-old-space-size=16", HELPER, netns], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { PATH: TOOL_PATH },
    });
    this.child.stderr!.on("data", (b: Buffer) => {
      if (this.stderr.length < 2048) this.stderr += b.toString("utf8");
    });
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.child.on("message", (m: unknown, handle: unknown) => this.answer(m, handle));
    this.exited = new Promise((resolve) => {
      this.child.once("error", (err) => {
        this.fail(new Error(`cannot start the dial helper in ${netns}: ${err.message}`));
        resolve();
      });
      this.child.once("exit", (code, signal) => {
        this.fail(new Error(`the dial helper in ${netns} exited (${signal ?? `code ${code}`})${this.stderr.trim() ? `: ${this.stderr.trim()}` : ""}`));
        resolve();
      });
    });
  }

  get alive(): boolean {
    return this.gone === undefined;
  }

  async dial(port: number): Promise<Socket> {
    await this.ready;
    if (this.gone) throw this.gone;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`connect to localhost:${port} in the pod: no answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
      }, ANSWER_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, port }, (err) => {
        // The channel broke: the helper is exiting, and its exit says why.
        if (err) void this.exited.then(() => this.settle(id, undefined, this.gone ?? err));
      });
    });
  }

  private answer(m: unknown, handle: unknown): void {
    const a = m as { id?: unknown; ok?: unknown; error?: unknown; ready?: unknown } | null;
    if (typeof a === "object" && a !== null && a.ready === true) this.markReady();
    if (typeof a !== "object" || a === null || typeof a.id !== "number") return;
    if (a.ok === true && handle && typeof (handle as Socket).pipe === "function") this.settle(a.id, handle as Socket);
    else this.settle(a.id, undefined, new Error(typeof a.error === "string" ? a.error : "the dial helper answered without a socket"));
  }

  private settle(id: number, s: Socket | undefined, err?: Error): void {
    const p = this.pending.get(id);
    if (!p) {
      s?.destroy(); // answered after its timeout
      return;
    }
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (s) p.resolve(s);
    else p.reject(err ?? new Error("dial failed"));
  }

  private fail(err: Error): void {
    this.gone ??= err;
    this.markReady();
    for (const id of [...this.pending.keys()]) this.settle(id, undefined, err);
  }

  /** Kills the helper by its PID and waits for it to be gone. */
  async stop(): Promise<void> {
    this.fail(new Error(`the dial helper in ${this.netns} was stopped`));
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}

interface PodEntry {
  netns: string | undefined;
  users: number;
  helper: NetnsHelper | undefined;
  sockets: Set<Socket>;
  closed: boolean;
}

/** The daemon's dialers, one entry per pod with port-forward users. */
export class PodDialers {
  private readonly pods = new Map<string, PodEntry>();

  /**
   * A claim on the pod's dialer. `netns` is the pod's network namespace pin; undefined for a
   * host-network pod (dialed from the daemon itself).
   */
  acquire(podId: string, netns: string | undefined): DialerLease {
    let e = this.pods.get(podId);
    if (!e || e.closed) {
      e = { netns, users: 0, helper: undefined, sockets: new Set(), closed: false };
      this.pods.set(podId, e);
    }
    const entry = e;
    entry.users++;
    let released = false;
    return {
      dial: (port) => this.dial(podId, entry, port),
      release: () => {
        if (released) return;
        released = true;
        if (--entry.users === 0 && !entry.closed) void this.closeEntry(podId, entry);
      },
    };
  }

  private async dial(podId: string, e: PodEntry, port: number): Promise<Socket> {
    if (e.closed) throw new Error(`pod sandbox ${podId} was stopped`);
    if (!isPort(port)) throw new Error(`port ${port} is not a TCP port (1-65535)`);
    let s: Socket;
    if (e.netns === undefined) {
      s = await dialLocalhost(port, { where: "on the host (host-network pod)" });
    } else {
      if (!e.helper?.alive) e.helper = new NetnsHelper(e.netns);
      s = await e.helper.dial(port);
    }
    if (e.closed) {
      s.destroy();
      throw new Error(`pod sandbox ${podId} was stopped`);
    }
    // Half-close passes through: the client's FIN ends our writing, not the pod's answer.
    s.allowHalfOpen = true;
    e.sockets.add(s);
    s.once("close", () => e.sockets.delete(s));
    return s;
  }

  /** Ends an entry: no more dials, its connections cut, its helper killed. */
  private async closeEntry(podId: string, e: PodEntry): Promise<void> {
    if (this.pods.get(podId) === e) this.pods.delete(podId);
    e.closed = true;
    for (const s of e.sockets) s.destroy();
    const h = e.helper;
    e.helper = undefined;
    if (h) await h.stop();
    log.debug({ pod: podId }, "port-forward dialer closed");
  }

  /**
   * The pod stopped: its helper goes and every forwarded connection into it is cut (an open
   * socket would keep the namespace, and its veth, alive). Later dials on old leases fail.
   */
  async closePod(podId: string): Promise<void> {
    const e = this.pods.get(podId);
    if (e) await this.closeEntry(podId, e);
  }

  /** Daemon shutdown: every helper and forwarded connection. */
  async close(): Promise<void> {
    await Promise.all([...this.pods.keys()].map((id) => this.closePod(id)));
  }

  /** Live helper processes (for tests and diagnostics). */
  helperCount(): number {
    return [...this.pods.values()].filter((e) => e.helper?.alive).length;
  }
}
