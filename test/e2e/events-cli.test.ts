// `berth events` against a real daemon: it announces the subscription, prints each lifecycle event
// as a line (or a JSON object with -o json), and ends with exit code 0 on SIGINT.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { MAIN } from "../fixtures/daemon.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, removeCtr, runPodWithLogs, sharedRegistry, startCtr, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

function watch(socket: string, ...args: string[]) {
  const p = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, "events", ...args], {
    env: { ...process.env, BERTH_RUNTIME_ENDPOINT: `unix://${socket}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  p.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const until = async (pred: () => boolean, what: string) => {
    for (let i = 0; i < 1500 && !pred(); i++) await new Promise((res) => setTimeout(res, 20));
    assert.ok(pred(), `${what}; stdout:\n${out}\nstderr:\n${err}`);
  };
  return { p, out: () => out, err: () => err, until };
}

test("berth events prints lifecycle events live, as lines or JSON, and ends cleanly on SIGINT", async (t) => {
  const env = await ctrEnv(t, r);
  const table = watch(env.d.socket);
  const json = watch(env.d.socket, "-o", "json", "--no-trunc");
  t.after(() => {
    table.p.kill("SIGKILL");
    json.p.kill("SIGKILL");
  });
  await table.until(() => table.err().includes("watching events"), "table watcher subscribed");
  await json.until(() => json.err().includes("watching events"), "json watcher subscribed");

  const podId = await runPodWithLogs(env);
  const id = await createCtr(env, podId, ctrConfig(env, { name: "watched", command: ["sh", "-c", "exit 4"] }));
  await startCtr(env.d, id);
  await json.until(() => json.out().includes('"CONTAINER_STOPPED_EVENT"'), "json watcher saw the exit");
  await removeCtr(env.d, id);
  await removePod(env.d, podId);
  await json.until(() => json.out().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { containerId: string; containerEventType: string }).some((e) => e.containerId === podId && e.containerEventType === "CONTAINER_DELETED_EVENT"), "json watcher saw the pod go");
  await table.until(() => new RegExp(`DELETED\\s+sandbox\\s+${podId.slice(0, 13)}`).test(table.out()), "table watcher saw the pod go");

  const events = json.out().trim().split("\n").map((l) => JSON.parse(l) as { containerId: string; containerEventType: string; containersStatuses?: Array<{ id: string; exitCode?: number }> });
  assert.deepEqual(
    events.filter((e) => e.containerId === id).map((e) => e.containerEventType),
    ["CONTAINER_CREATED_EVENT", "CONTAINER_STARTED_EVENT", "CONTAINER_STOPPED_EVENT", "CONTAINER_DELETED_EVENT"],
  );
  assert.equal(events.find((e) => e.containerId === id && e.containerEventType === "CONTAINER_STOPPED_EVENT")?.containersStatuses?.find((s) => s.id === id)?.exitCode, 4);
  assert.match(table.out(), new RegExp(`STOPPED\\s+container\\s+${id.slice(0, 13)}\\s+pod=${podId.slice(0, 13)}\\s+name=watched\\s+exit=4\\s+reason=Error`));
  assert.match(table.out(), new RegExp(`CREATED\\s+sandbox\\s+${podId.slice(0, 13)}\\s+name=e2e/pod-`));

  for (const w of [table, json]) {
    w.p.kill("SIGINT");
    const [code] = (await once(w.p, "exit")) as [number | null];
    assert.equal(code, 0, w.err());
  }
  await env.leaks.assertNoLeaks();
});
