// `berth statsp` and the `--watch` mode of `stats` and `statsp` against a real daemon: the pod's
// row and JSON, and a watcher that redraws until SIGINT, then exits 0.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { MAIN, runBerth } from "../fixtures/daemon.js";
import { removePod } from "./pods-kit.js";
import { ctrEnv, runCtr, sharedRegistry, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

test("statsp lists pod stats; stats -w and statsp -w refresh until SIGINT", async (t) => {
  const env = await ctrEnv(t, r);
  const endpoint = { BERTH_RUNTIME_ENDPOINT: `unix://${env.d.socket}` };
  const { podId, id } = await runCtr(env, { name: "busy", command: ["sleep", "1000"] }, { name: "statsp-pod" });
  const ok = async (...args: string[]) => {
    const x = await runBerth(args, endpoint);
    assert.equal(x.code, 0, `berth ${args.join(" ")}: ${x.stderr}`);
    return x.stdout;
  };
  const table = await ok("statsp");
  assert.match(table, /^POD\s+POD ID\s+CPU %\s+MEM\s+RX\s+TX$/m);
  assert.match(table, new RegExp(`^statsp-pod\\s+${podId.slice(0, 13)}\\s+\\d+\\.\\d\\d\\s+\\S+`, "m"));
  const json = JSON.parse(await ok("statsp", "-o", "json", "--id", podId)) as { stats: Array<{ attributes: { id: string }; linux: { containers: Array<{ attributes: { id: string } }> } }> };
  assert.deepEqual(json.stats.map((s) => s.attributes.id), [podId]);
  assert.deepEqual(json.stats[0]!.linux.containers.map((c) => c.attributes.id), [id]);
  assert.equal((await runBerth(["statsp", "--label", "nokey"], endpoint)).code, 2, "a bad label is a usage error");

  for (const cmd of ["stats", "statsp"]) {
    const p = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", MAIN, cmd, "-w", "--seconds", "0.2"], { env: { ...process.env, ...endpoint }, stdio: ["ignore", "pipe", "pipe"] });
    t.after(() => p.kill("SIGKILL"));
    let out = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const header = cmd === "stats" ? /^CONTAINER\s+NAME/gm : /^POD\s+POD ID/gm;
    for (let i = 0; i < 1500 && (out.match(header)?.length ?? 0) < 3; i++) await new Promise((res) => setTimeout(res, 20));
    assert.ok((out.match(header)?.length ?? 0) >= 3, `${cmd} -w redraws:\n${out}`);
    p.kill("SIGINT");
    const [code] = (await once(p, "exit")) as [number | null];
    assert.equal(code, 0);
  }
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
});
