// The `berth` CLI against a real daemon as crictl users type it: global flags before the command,
// crictl.yaml, -o go-template; and CheckpointContainer's error paths on this host (raw RPC and CLI).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import { probeCriu } from "../../src/oci/criu.js";
import { runBerth } from "../fixtures/daemon.js";
import { ctrEnv, runCtr, sharedRegistry, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
before(async () => {
  r = await sharedRegistry();
});
after(async () => {
  await r.stop();
});

/** No endpoint in the environment: only what the test passes decides. */
const CLEAN = { BERTH_RUNTIME_ENDPOINT: "", CONTAINER_RUNTIME_ENDPOINT: "", IMAGE_SERVICE_ENDPOINT: "", CRI_CONFIG_FILE: "/nonexistent/crictl.yaml" };

test("global flags before the command, crictl.yaml and env vars, -o go-template, config --set", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const sock = d.socket;
  const berth = (args: string[], extra: NodeJS.ProcessEnv = {}) => runBerth(args, { ...CLEAN, ...extra });
  const ok = async (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const x = await berth(args, extra);
    assert.equal(x.code, 0, `berth ${args.join(" ")}: ${x.stderr}`);
    return x.stdout;
  };
  const { podId } = await runCtr(env, { command: ["sleep", "1000"] });

  const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv; want: RegExp }> = [
    { args: ["-r", `unix://${sock}`, "version"], want: /^Version:\s+0\.1\.0\nRuntimeName:\s+berth\n/ },
    { args: ["--runtime-endpoint", sock, "-o", "json", "pods"], want: new RegExp(`"id": "${podId}"`) },
    { args: [`--runtime-endpoint=unix://${sock}`, "-t", "20s", "pods", "-q"], want: new RegExp(`^${podId}\\n$`) },
    { args: ["-r", sock, "-i", sock, "images", "-q"], want: /^sha256:[0-9a-f]{64}\n$/ },
    { args: ["-D", "-r", sock, "version", "-o", "yaml"], want: /runtimeName: berth/ },
    { args: ["version"], env: { CONTAINER_RUNTIME_ENDPOINT: `unix://${sock}` }, want: /RuntimeName:\s+berth/ },
    { args: ["images", "-q"], env: { BERTH_RUNTIME_ENDPOINT: "/nonexistent.sock", IMAGE_SERVICE_ENDPOINT: sock }, want: /^sha256:/ },
    { args: ["-r", sock, "version", "-o", "go-template", "--template", "{{.runtimeName}} {{.runtimeApiVersion}}"], want: /^berth v1\n$/ },
    { args: ["-r", sock, "inspectp", "-o", "go-template", "--template", "{{.status.id}}/{{.status.state}}", podId], want: new RegExp(`^${podId}/SANDBOX_READY\\n$`) },
    { args: ["-r", sock, "info", "-o", "go-template", "--template", "{{range .status.conditions}}{{.type}}={{json .status}} {{end}}"], want: /RuntimeReady=true NetworkReady=true/ },
  ];
  for (const c of cases) assert.match(await ok(c.args, c.env), c.want, c.args.join(" "));

  // exec keeps -i/-t as interactive/tty after the command, with global -r before it.
  const ctr = (await ok(["-r", sock, "ps", "-q"])).trim();
  assert.equal(await ok(["-r", sock, "exec", "-i", ctr, "echo", "hi"]), "hi\n");

  // crictl.yaml through --config, written by `berth config --set` (crictl's client config command).
  const file = join(d.dir, "crictl.yaml");
  await ok(["--config", file, "config", "--set", `runtime-endpoint=unix://${sock},timeout=20`]);
  assert.equal(await ok(["-c", file, "config", "--get", "runtime-endpoint"]), `unix://${sock}\n`);
  assert.match(await ok(["-c", file, "version"]), /RuntimeName:\s+berth/);
  assert.match(await ok(["version"], { CRI_CONFIG_FILE: file }), /RuntimeName:\s+berth/);
  // A flag beats the environment, which beats the file.
  assert.match((await berth(["-c", file, "version"], { CONTAINER_RUNTIME_ENDPOINT: "/nonexistent.sock" })).stderr, /nonexistent\.sock/);
  assert.match(await ok(["-r", sock, "-c", file, "version"], { CONTAINER_RUNTIME_ENDPOINT: "/nonexistent.sock" }), /RuntimeName/);

  // Usage errors: exit 2 with the reason.
  const bad: Array<[string[], RegExp]> = [
    [["-x", "version"], /unknown global flag "-x"/],
    [["-r"], /global flag -r needs a value/],
    [["-r", sock, "ps", "-o", "go-template", "--template", "{{.x}}"], /-o go-template is not supported here/],
    [["-r", sock, "version", "-o", "go-template"], /needs --template/],
    [["-r", sock, "version", "-o", "go-template", "--template", "{{if .x}}{{end}}"], /"if \.x" is not supported/],
    [["-r", sock, "checkpoint", ctr], /--export FILE\.tar is required/],
    [["completion", "fish"], /expected "bash" or "zsh"/],
  ];
  for (const [args, re] of bad) {
    const x = await berth(args);
    assert.equal(x.code, 2, args.join(" "));
    assert.match(x.stderr, re, args.join(" "));
  }
});

test("CheckpointContainer: unknown container NotFound, bad location InvalidArgument, CRIU's answer on this host", async (t) => {
  const env = await ctrEnv(t, r);
  const { d } = env;
  const c = d.client;
  const { id } = await runCtr(env, { command: ["sleep", "1000"] });
  const ckpt = (containerId: string, location: string, timeout = 0n) => call(c, c.runtime, c.runtime.checkpointContainer, { containerId, location, timeout }, 60_000);
  const code = async (p: Promise<unknown>): Promise<{ code: number; details: string }> => {
    try {
      await p;
    } catch (e) {
      return e as { code: number; details: string };
    }
    return { code: status.OK, details: "" };
  };
  const loc = join(d.dir, "ckpt.tar");

  let e = await code(ckpt("0123456789abcdef", loc));
  assert.equal(e.code, status.NOT_FOUND, e.details);
  e = await code(ckpt("", loc));
  assert.equal(e.code, status.INVALID_ARGUMENT);
  for (const [where, re] of [["ckpt.tar", /not an absolute path/], [join(d.dir, "ckpt.zip"), /must name a \.tar archive/], [join(d.dir, "no", "x.tar"), /does not exist/]] as const) {
    e = await code(ckpt(id, where));
    assert.equal(e.code, status.INVALID_ARGUMENT, where);
    assert.match(e.details, re);
  }
  e = await code(ckpt(id, loc, -1n));
  assert.equal(e.code, status.INVALID_ARGUMENT);

  const probe = await probeCriu();
  if (probe.ok) {
    // A host where CRIU works: the archive is written (not reachable on the CI host of today, kernel 6.18 + CRIU 3.17).
    e = await code(ckpt(id, loc));
    assert.equal(e.code, status.OK, e.details);
    assert.ok(existsSync(loc));
  } else {
    e = await code(ckpt(id, loc));
    assert.equal(e.code, status.FAILED_PRECONDITION, e.details);
    assert.equal(e.details, probe.error.message);
    assert.match(e.details, /CRIU is not installed|`criu check` failed: .+; this host's kernel .* cannot checkpoint/);
    // Asked again: the same answer (the probe is kept).
    assert.equal((await code(ckpt(id, loc))).details, e.details);
    const x = await runBerth(["-r", d.socket, "checkpoint", "--export", loc, id.slice(0, 12)], CLEAN);
    assert.equal(x.code, 1);
    assert.equal(x.stderr, `berth: ${probe.error.message}\n`);
    assert.ok(!existsSync(loc));
    assert.deepEqual((await readdir(d.dir)).filter((f) => f.startsWith(".berth-checkpoint-") || f.endsWith(".berth-tmp")), []);
  }

  // A container that is not running is refused before CRIU is asked.
  await call(c, c.runtime, c.runtime.stopContainer, { containerId: id, timeout: 0n }, 60_000);
  e = await code(ckpt(id, loc));
  assert.equal(e.code, status.FAILED_PRECONDITION);
  assert.match(e.details, /is exited, not running/);
});
