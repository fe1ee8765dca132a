// Exec over WebSocket with a real daemon and a `ws` client (v5 with the close signal, v4 with a
// tty and a resize, a client that vanishes), and `berth exec -i` / `berth exec -it` as users
// run them: piped stdin, and a shell under a pseudo-terminal (util-linux script).
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { call } from "../../src/cli/client.js";
import { MAIN, type Daemon } from "../fixtures/daemon.js";
import { ctrEnv, exec, runCtr, sharedRegistry, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

const SLEEPER = ["sh", "-c", "exec sleep 100000"];

async function execUrl(d: Daemon, containerId: string, cmd: string[], o: { stdin?: boolean; tty?: boolean; stderr?: boolean }): Promise<string> {
  const c = d.client;
  const req = { containerId, cmd, stdin: !!o.stdin, tty: !!o.tty, stdout: true, stderr: o.stderr ?? !o.tty };
  return (await call(c, c.runtime, c.runtime.exec, req)).url.replace(/^http/, "ws");
}

function channels(ws: WebSocket): Map<number, Buffer[]> {
  const m = new Map<number, Buffer[]>();
  ws.on("message", (d: Buffer) => m.set(d[0]!, [...(m.get(d[0]!) ?? []), d.subarray(1)]));
  return m;
}
const text = (m: Map<number, Buffer[]>, ch: number) => Buffer.concat(m.get(ch) ?? []).toString();

async function eventually(what: string | (() => string), check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`timed out waiting for: ${typeof what === "string" ? what : what()}`);
}

test("exec over WebSocket: v5 stdin with the close signal, stdout, stderr, the exit code in the Status", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: SLEEPER });
  const ws = new WebSocket(await execUrl(env.d, id, ["sh", "-c", "cat; echo done >&2; exit 4"], { stdin: true }), ["v5.channel.k8s.io"]);
  const got = channels(ws);
  await once(ws, "open");
  assert.equal(ws.protocol, "v5.channel.k8s.io");
  ws.send(Buffer.concat([Buffer.of(0), Buffer.from("from-stdin\n")]));
  ws.send(Buffer.from([255, 0]));
  await once(ws, "close");
  assert.equal(text(got, 1), "from-stdin\n");
  assert.equal(text(got, 2), "done\n");
  const status = JSON.parse(text(got, 3)) as { status: string; reason: string; details: { causes: Array<{ reason: string; message: string }> } };
  assert.equal(status.reason, "NonZeroExitCode");
  assert.deepEqual(status.details.causes, [{ reason: "ExitCode", message: "4" }]);
});

test("exec over WebSocket with a tty (v4 base64): the resize reaches the terminal stty reads", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: SLEEPER });
  const ws = new WebSocket(await execUrl(env.d, id, ["sh"], { stdin: true, tty: true }), ["v4.base64.channel.k8s.io"]);
  const msgs: string[] = [];
  ws.on("message", (d: Buffer) => msgs.push(d.toString()));
  const decoded = (ch: string) => msgs.filter((m) => m[0] === ch).map((m) => Buffer.from(m.slice(1), "base64").toString()).join("");
  await once(ws, "open");
  ws.send("4" + Buffer.from(JSON.stringify({ Width: 91, Height: 17 })).toString("base64"));
  // The resize travels beside stdin (conmon's ctl fifo): ask until the terminal has it.
  for (let i = 0; i < 100 && !/17 91/.test(decoded("1")); i++) {
    ws.send("0" + Buffer.from("stty size\r").toString("base64"));
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.match(decoded("1"), /17 91/);
  ws.send("0" + Buffer.from("exit\r").toString("base64"));
  await once(ws, "close");
  assert.equal(JSON.parse(decoded("3")).status, "Success");
});

test("a WebSocket client that vanishes mid-exec leaves no exec process behind", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: SLEEPER });
  const ws = new WebSocket(await execUrl(env.d, id, ["sleep", "4242"], { stdin: true }), ["v4.channel.k8s.io"]);
  await once(ws, "open");
  await eventually("the exec runs", async () => (await exec(env.d, id, ["ps"])).stdout.toString().includes("sleep 4242"));
  ws.terminate();
  await eventually("the exec is gone", async () => !(await exec(env.d, id, ["ps"])).stdout.toString().includes("sleep 4242"));
});

/** Runs a shell command line on a fresh pseudo-terminal (util-linux script), in its own process group. */
function underPty(d: Daemon, cmd: string): ChildProcessWithoutNullStreams {
  return spawn("script", ["-qefc", cmd, "/dev/null"], { env: { ...process.env, BERTH_RUNTIME_ENDPOINT: `unix://${d.socket}`, TERM: "dumb" }, stdio: ["pipe", "pipe", "pipe"], detached: true });
}

/** script and whatever runs on its terminal, by process group. */
function killGroup(p: ChildProcessWithoutNullStreams): void {
  try {
    if (p.pid) process.kill(-p.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function berth(env: { d: Daemon }, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, ...args], { env: { ...process.env, BERTH_RUNTIME_ENDPOINT: `unix://${env.d.socket}` }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  p.stdin.end(input ?? "");
  return once(p, "exit").then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

test("berth exec -i pipes stdin through; without -i/-t it is ExecSync as before", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: SLEEPER });
  // ~420 KB: more than the SPDY stream buffers, so stdin's FIN arrives while the daemon's reader is
  // behind (it was once lost there and `cat` never ended; test/e2e/streaming.test.ts loops on that).
  const big = "line of input\n".repeat(30_000);
  const x = await berth(env, ["exec", "-i", id, "sh", "-c", "cat; echo err >&2; exit 3"], big);
  assert.equal(x.code, 3, x.stderr);
  assert.equal(x.stdout, big);
  assert.equal(x.stderr, "err\n");
  const y = await berth(env, ["exec", id, "sh", "-c", "echo sync; exit 5"]);
  assert.deepEqual([y.code, y.stdout], [5, "sync\n"]);
});

test("berth exec -it under a pseudo-terminal gives a usable shell: type, see the output, Ctrl-D ends it", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: SLEEPER });
  // script(1) runs berth on a fresh pty; what we write goes to that terminal as typed keys.
  const cmd = [process.execPath, "--disable-warning=ExperimentalWarning", MAIN, "exec", "-it", id, "sh"].map((a) => `'${a}'`).join(" ");
  const p = underPty(env.d, cmd);
  t.after(() => killGroup(p));
  let out = "";
  p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  p.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  await eventually(() => `a prompt; so far: ${JSON.stringify(out)}`, async () => /[#$] (\x1b\[6n)?$/.test(out) || p.exitCode !== null);
  p.stdin.write("echo sum-$((40+2)); tty\r");
  await eventually(() => `the command's output; so far: ${JSON.stringify(out)}`, async () => out.includes("sum-42") || p.exitCode !== null);
  assert.match(out, /sum-42/);
  await eventually("tty's answer", async () => /\/dev\/pts\/\d+/.test(out) || p.exitCode !== null);
  p.stdin.write("\x04");
  const [code] = (await once(p, "exit")) as [number | null];
  assert.equal(code, 0, out);
  const shells = async () => (await exec(env.d, id, ["ps"])).stdout.toString().split("\n").filter((l) => /\ssh$/.test(l.trimEnd())).length;
  await eventually("the shell is gone from the container", async () => (await shells()) === 0);
});

test("berth attach -it to a tty container: type into its shell, ctrl-p ctrl-q detaches and leaves it running", async (t) => {
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: ["sh"], tty: true, stdin: true });
  const cmd = [process.execPath, "--disable-warning=ExperimentalWarning", MAIN, "attach", "-it", id].map((a) => `'${a}'`).join(" ");
  const p = underPty(env.d, cmd);
  t.after(() => killGroup(p));
  let out = "";
  p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  p.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  // Attached: what we type reaches the container's shell (retyped until the attach is up).
  for (let i = 0; i < 100 && !out.includes("att-2") && p.exitCode === null; i++) {
    p.stdin.write("echo att-$((1+1))\r");
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.match(out, /att-2/);
  p.stdin.write("\x10\x11");
  await eventually(() => `berth attach to exit after the detach keys; so far: ${JSON.stringify(out)}`, async () => p.exitCode !== null);
  assert.equal(p.exitCode, 0, out);
  assert.match(out, /detached/);
  const c = env.d.client;
  const s = await call(c, c.runtime, c.runtime.containerStatus, { containerId: id, verbose: false });
  assert.equal(s.status?.state, 1, "still running after the detach");
});
