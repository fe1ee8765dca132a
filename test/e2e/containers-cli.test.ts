// The container commands of the `berth` CLI against a real daemon (run, create, start, ps, inspect,
// logs, exec, stats, update, stop, rm), and crictl itself end to end where it is installed.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runBerth } from "../fixtures/daemon.js";
import { MAIN } from "../fixtures/daemon.js";
import { crictlOrSkip } from "../fixtures/crictl.js";
import { ctrEnv, sharedRegistry, type CtrEnv, type Registry } from "./containers-kit.js";

const run = promisify(execFile);

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

async function configs(env: CtrEnv, name: string, command: string[]): Promise<{ pod: string; ctr: string }> {
  const pod = join(env.d.dir, `${name}-pod.json`);
  const ctr = join(env.d.dir, `${name}-ctr.json`);
  await writeFile(pod, JSON.stringify({
    metadata: { name, namespace: "cli", uid: `uid-${name}`, attempt: 0 },
    log_directory: join(env.logRoot, name),
    linux: { security_context: { namespace_options: { pid: 1 } } },
  }));
  await writeFile(ctr, JSON.stringify({
    metadata: { name: `${name}-c` },
    image: { image: env.image },
    command,
    envs: [{ key: "FOO", value: "bar" }],
    labels: { app: name },
    log_path: `${name}-c.log`,
  }));
  return { pod, ctr };
}

test("run, ps, inspect, logs, exec, stats, update, stop, rm, create and start work like crictl's", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const berth = (...args: string[]) => runBerth(args, { BERTH_RUNTIME_ENDPOINT: `unix://${d.socket}` });
  const ok = async (...args: string[]) => {
    const x = await berth(...args);
    assert.equal(x.code, 0, `berth ${args.join(" ")}: ${x.stderr}`);
    return x.stdout;
  };
  const web = await configs(env, "web", ["sh", "-c", "echo hi; echo err >&2; sleep 0.2; echo two; exec sleep 1000"]);
  const id = (await ok("run", web.ctr, web.pod)).trim();
  assert.match(id, /^[0-9a-f]{64}$/);

  const table = await ok("ps");
  assert.match(table, /^CONTAINER\s+IMAGE\s+CREATED\s+STATE\s+NAME\s+ATTEMPT\s+POD ID\s+POD$/m);
  assert.match(table, new RegExp(`^${id.slice(0, 13)}\\s+\\S+\\s+.*Running\\s+web-c\\s+0\\s+[0-9a-f]{13}\\s+web$`, "m"));
  assert.equal(await ok("ps", "-q"), `${id}\n`);
  assert.equal(await ok("ps", "-q", "--label", "app=web"), `${id}\n`);
  assert.equal(await ok("ps", "-q", "--label", "app=db"), "");
  assert.equal(await ok("ps", "-q", "--state", "exited"), "");
  const doc = JSON.parse(await ok("inspect", id.slice(0, 10))) as { status: { state: string; logPath: string }; info: { pid: number; runtimeSpec: { process: { env: string[] } } } };
  assert.equal(doc.status.state, "CONTAINER_RUNNING");
  assert.ok(doc.info.pid > 0);
  assert.ok(doc.info.runtimeSpec.process.env.includes("FOO=bar"));

  for (let i = 0; i < 100 && !(await readFile(doc.status.logPath, "utf8").catch(() => "")).includes("two"); i++) await new Promise((res) => setTimeout(res, 20));
  let x = await berth("logs", id);
  assert.equal(x.stdout, "hi\ntwo\n");
  assert.equal(x.stderr, "err\n");
  assert.equal((await berth("logs", "--tail", "1", id)).stdout, "two\n");
  assert.match((await berth("logs", "--timestamps", id)).stdout, /^\d{4}-\d\d-\d\dT\S+ hi$/m);
  assert.equal((await berth("logs", "--since", "2000-01-01T00:00:00Z", id)).stdout, "hi\ntwo\n");

  x = await berth("exec", id, "sh", "-c", "echo $FOO; ls -d /etc; exit 3");
  assert.equal(x.code, 3);
  assert.equal(x.stdout, "bar\n/etc\n");

  const stats = await ok("stats");
  assert.match(stats, /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES$/m);
  assert.match(stats, new RegExp(`^${id.slice(0, 13)}\\s+web-c\\s+\\d+\\.\\d\\d\\s+\\S+B\\s+\\S+B\\s+\\d+$`, "m"));
  assert.equal(await ok("update", "--memory", "64m", "--cpu-quota", "20000", id), `${id}\n`);
  const res = (JSON.parse(await ok("inspect", id)) as { status: { resources: { linux: { memoryLimitInBytes: string; cpuQuota: string } } } }).status.resources.linux;
  assert.deepEqual([res.memoryLimitInBytes, res.cpuQuota], [String(64 << 20), "20000"]);

  x = await berth("rm", id);
  assert.notEqual(x.code, 0, "rm of a running container needs -f");
  assert.match(x.stderr, /running/);
  assert.equal(await ok("stop", "-t", "1", id), `${id}\n`);
  assert.match(await ok("ps", "-a"), /Exited/);
  assert.equal(await ok("rm", id), `${id}\n`);

  // create + start in the same pod, and logs -f following until the container ends.
  const podId = (await ok("pods", "-q")).trim();
  const late = await configs(env, "late", ["sh", "-c", "for i in 1 2 3 4 5; do echo tick-$i; sleep 0.2; done"]);
  const id2 = (await ok("create", podId, late.ctr, late.pod)).trim();
  assert.match(await ok("ps", "-a", "--state", "created"), new RegExp(id2.slice(0, 13)));
  const follower = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, "logs", "-f", id2], { env: { ...process.env, BERTH_RUNTIME_ENDPOINT: `unix://${d.socket}` }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((res) => follower.once("exit", res));
  t.after(() => {
    if (follower.exitCode === null) follower.kill("SIGKILL");
  });
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(await ok("start", id2), `${id2}\n`);
  let followed = "";
  follower.stdout.setEncoding("utf8").on("data", (s: string) => (followed += s));
  const code = await exited;
  assert.equal(code, 0);
  assert.equal(followed, [1, 2, 3, 4, 5].map((i) => `tick-${i}\n`).join(""));
  assert.match(await ok("rm", "-a", "-f"), new RegExp(id2));
  await ok("rmp", "-a", "-f");
  await env.leaks.assertNoLeaks();
});

test("crictl run, ps, inspect, logs, exec -s, stats, update, stop, rm, create and start against Berth", async (t) => {
  const CRICTL = crictlOrSkip(t);
  if (!CRICTL) return;
  const env = await ctrEnv(t, r);
  const { d } = env;
  const crictl = async (...args: string[]) => (await run(CRICTL, ["--runtime-endpoint", `unix://${d.socket}`, "--image-endpoint", `unix://${d.socket}`, "--timeout", "60s", ...args])).stdout;
  const web = await configs(env, "cri", ["sh", "-c", "echo from-crictl; exec sleep 1000"]);
  const id = (await crictl("run", web.ctr, web.pod)).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(await crictl("ps"), new RegExp(`${id.slice(0, 13)}.*Running.*cri-c`));
  const doc = JSON.parse(await crictl("inspect", id)) as { status: { state: string; image: { image: string } }; info: { pid: number } };
  assert.equal(doc.status.state, "CONTAINER_RUNNING");
  assert.ok(doc.info.pid > 0);
  for (let i = 0; i < 100 && !(await crictl("logs", id)).includes("from-crictl"); i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(await crictl("logs", id), "from-crictl\n");
  // crictl prints the output with an extra newline of its own.
  assert.equal((await crictl("exec", "-s", id, "sh", "-c", "echo $FOO")).trim(), "bar");
  assert.match(await crictl("stats", id), new RegExp(id.slice(0, 13)));
  await crictl("update", "--memory", String(96 << 20), id);
  const res = JSON.parse(await crictl("inspect", id)) as { status: { resources: { linux: { memoryLimitInBytes: string } } } };
  assert.equal(res.status.resources.linux.memoryLimitInBytes, String(96 << 20));
  await crictl("stop", "--timeout", "1", id);
  assert.match(await crictl("ps", "-a"), /Exited/);
  await crictl("rm", id);
  assert.equal((await crictl("ps", "-a", "-q")).trim(), "");
  const podId = (await crictl("pods", "-q")).trim();
  const second = await configs(env, "cri2", ["sh", "-c", "echo second; exec sleep 1000"]);
  const id2 = (await crictl("create", podId, second.ctr, web.pod)).trim();
  assert.match(await crictl("ps", "-a"), new RegExp(`${id2.slice(0, 13)}.*Created`));
  await crictl("start", id2);
  assert.match(await crictl("ps"), new RegExp(`${id2.slice(0, 13)}.*Running`));
  await crictl("rm", "-f", id2);
  await crictl("rmp", "-a", "-f");
  await env.leaks.assertNoLeaks();
});
