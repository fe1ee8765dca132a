// The Go reference client against Berth's streaming server: crictl 1.26.1 (client-go's SPDY
// executor over moby/spdystream) runs exec -i, exec -it with resize, attach with and without a tty.
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { ContainerState } from "../../src/generated/runtime/v1/api.js";
import { crictlOrSkip } from "../fixtures/crictl.js";
import { REPO } from "../fixtures/daemon.js";
import { ctrEnv, ctrStatus, runCtr, sharedRegistry, type CtrEnv, type Registry } from "./containers-kit.js";

const PTY_RUN = join(REPO, "test/fixtures/pty-run.py");

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

interface Proc {
  p: ChildProcessWithoutNullStreams;
  out(): string;
  /** Resolves once the output (from `from` on) matches re. */
  waitFor(re: RegExp, from?: number): Promise<string>;
  exit: Promise<number | null>;
}

function start(t: TestContext, cmd: string, args: string[]): Proc {
  const p = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const waiters: Array<() => void> = [];
  const feed = (d: Buffer): void => {
    out += d.toString("utf8");
    for (const w of waiters.splice(0)) w();
  };
  p.stdout.on("data", feed);
  p.stderr.on("data", feed);
  const exit = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
  t.after(async () => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill("SIGKILL");
      await once(p, "exit");
    }
  });
  return {
    p,
    out: () => out,
    exit,
    async waitFor(re, from = 0) {
      for (;;) {
        const m = re.exec(out.slice(from));
        if (m) return m[0];
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`process exited before output matched ${re}:\n${out}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          p.once("exit", () => resolve());
        });
      }
    },
  };
}

function crictlArgs(env: CtrEnv, ...args: string[]): string[] {
  return ["--runtime-endpoint", `unix://${env.d.socket}`, "--timeout", "60s", ...args];
}

test("crictl exec -i pipes stdin through cat; a non-zero exit code is reported", async (t) => {
  const crictl = crictlOrSkip(t);
  if (!crictl) return;
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: ["sleep", "3600"] });
  const cat = start(t, crictl, crictlArgs(env, "exec", "-i", id, "cat"));
  cat.p.stdin.end("through the Go client\n");
  assert.equal(await cat.exit, 0, cat.out());
  assert.equal(cat.out(), "through the Go client\n");

  const fail = start(t, crictl, crictlArgs(env, "exec", id, "sh", "-c", "echo before; exit 3"));
  assert.notEqual(await fail.exit, 0);
  assert.match(fail.out(), /before\n/);
  // client-go read the ExitCode cause of the NonZeroExitCode Status.
  assert.match(fail.out(), /command terminated with exit code 3/, fail.out());
});

test("crictl exec -it: a shell on a terminal, stty size follows the terminal and its resize", async (t) => {
  const crictl = crictlOrSkip(t);
  if (!crictl) return;
  const env = await ctrEnv(t, r);
  const { id } = await runCtr(env, { command: ["sleep", "3600"] });
  const sh = start(t, "python3", [PTY_RUN, "33", "111", crictl, ...crictlArgs(env, "exec", "-it", id, "sh")]);
  // The initial size arrives on the resize stream: ask until the shell sees it.
  const ask = async (want: RegExp): Promise<void> => {
    for (;;) {
      const mark = sh.out().length;
      sh.p.stdin.write("stty size\n");
      const got = await sh.waitFor(/\n(\d+ \d+)\r?\n/, mark);
      if (want.test(got)) return;
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  await ask(/33 111/);
  sh.p.stdin.write("\x01resize 40 132\n");
  await ask(/40 132/);
  sh.p.stdin.write("exit 5\n");
  assert.notEqual(await sh.exit, 0);
  assert.match(sh.out(), /command terminated with exit code 5/);
});

test("crictl attach: to a tty container (typed input echoed) and to a non-tty one; detaching leaves both running", async (t) => {
  const crictl = crictlOrSkip(t);
  if (!crictl) return;
  const env = await ctrEnv(t, r);
  const tty = await runCtr(env, { command: ["sh"], tty: true, stdin: true });
  const att = start(t, "python3", [PTY_RUN, "24", "80", crictl, ...crictlArgs(env, "attach", "--tty", "--stdin", tty.id)]);
  // Keep typing until the container's shell answers (attach may start after the first keystrokes).
  for (;;) {
    const mark = att.out().length;
    att.p.stdin.write("echo attached-$((6*7))\n");
    const got = await Promise.race([att.waitFor(/attached-42/, mark), new Promise<string>((res) => setTimeout(() => res(""), 500))]);
    if (got) break;
  }
  att.p.kill("SIGKILL");
  await att.exit;

  const plain = await runCtr(env, { command: ["sh", "-c", "while true; do echo tick; sleep 0.2; done"] });
  const watch = start(t, crictl, crictlArgs(env, "attach", plain.id));
  await watch.waitFor(/tick\ntick\n/);
  watch.p.kill("SIGKILL");
  await watch.exit;

  const withStdin = await runCtr(env, { command: ["sh", "-c", "while read l; do echo got:$l; done"], stdin: true });
  const talk = start(t, crictl, crictlArgs(env, "attach", "--stdin", withStdin.id));
  for (;;) {
    const mark = talk.out().length;
    talk.p.stdin.write("line\n");
    const got = await Promise.race([talk.waitFor(/got:line/, mark), new Promise<string>((res) => setTimeout(() => res(""), 500))]);
    if (got) break;
  }
  talk.p.kill("SIGKILL");
  await talk.exit;

  for (const c of [tty.id, plain.id, withStdin.id]) assert.equal((await ctrStatus(env.d, c)).status?.state, ContainerState.CONTAINER_RUNNING);
});
