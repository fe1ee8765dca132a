// crictl's command-line shape, table-driven: global flags before the command, the command's own
// flags after it (exec -i/-t stay interactive/tty), endpoint and timeout precedence.
import assert from "node:assert/strict";
import { test } from "node:test";
import { splitGlobal } from "../../../src/cli/global.js";
import { resolveEndpoints, timeoutMs } from "../../../src/cli/endpoint.js";

const cases: Array<{ argv: string[]; globals: object; cmd: string | undefined; rest: string[] }> = [
  { argv: ["-r", "unix:///a.sock", "pull", "busybox"], globals: { runtimeEndpoint: "unix:///a.sock" }, cmd: "pull", rest: ["busybox"] },
  // -o before the command: Berth's extension (crictl takes it after the command only).
  { argv: ["--runtime-endpoint", "/a.sock", "-o", "json", "pods"], globals: { runtimeEndpoint: "/a.sock", output: "json" }, cmd: "pods", rest: [] },
  { argv: ["--runtime-endpoint=/a.sock", "pods"], globals: { runtimeEndpoint: "/a.sock" }, cmd: "pods", rest: [] },
  { argv: ["-i", "/img.sock", "-t", "5s", "images", "-q"], globals: { imageEndpoint: "/img.sock", timeout: "5s" }, cmd: "images", rest: ["-q"] },
  { argv: ["-D", "--config", "/etc/c.yaml", "version"], globals: { debug: true, config: "/etc/c.yaml" }, cmd: "version", rest: [] },
  { argv: ["-c", "c.yaml", "--timeout=2s", "ps", "-a"], globals: { config: "c.yaml", timeout: "2s" }, cmd: "ps", rest: ["-a"] },
  // After the command, -i/-t belong to it (exec: interactive, tty).
  { argv: ["exec", "-i", "-t", "abc", "sh"], globals: {}, cmd: "exec", rest: ["-i", "-t", "abc", "sh"] },
  { argv: ["-r", "/s", "exec", "-it", "abc", "sh"], globals: { runtimeEndpoint: "/s" }, cmd: "exec", rest: ["-it", "abc", "sh"] },
  { argv: ["stop", "-t", "3", "abc"], globals: {}, cmd: "stop", rest: ["-t", "3", "abc"] },
  { argv: ["--version"], globals: { version: true }, cmd: undefined, rest: [] },
  { argv: ["-h"], globals: { help: true }, cmd: undefined, rest: [] },
  { argv: [], globals: {}, cmd: undefined, rest: [] },
];

for (const c of cases) {
  test(`splitGlobal ${JSON.stringify(c.argv)}`, () => {
    assert.deepEqual(splitGlobal(c.argv), { globals: c.globals, cmd: c.cmd, rest: c.rest });
  });
}

test("global flags: a missing value, an unknown flag and --debug=x are usage errors", () => {
  assert.throws(() => splitGlobal(["-r"]), /global flag -r needs a value/);
  assert.throws(() => splitGlobal(["--runtime-endpoint="]), /needs a value/);
  assert.throws(() => splitGlobal(["--nope", "version"]), /unknown global flag "--nope"/);
  assert.throws(() => splitGlobal(["--debug=1", "version"]), /unknown global flag/);

});

test("endpoints: command flag, global flag, BERTH_/CONTAINER_RUNTIME_ENDPOINT, crictl.yaml, Berth's socket, in that order", () => {
  const base = { env: {}, file: {}, daemonSocket: () => "/run/berth/berth.sock" };
  const rows: Array<[Parameters<typeof resolveEndpoints>[0], { runtime: string; image: string }]> = [
    [base, { runtime: "/run/berth/berth.sock", image: "/run/berth/berth.sock" }],
    [{ ...base, file: { "runtime-endpoint": "unix:///f.sock" } }, { runtime: "unix:///f.sock", image: "unix:///f.sock" }],
    [{ ...base, env: { CONTAINER_RUNTIME_ENDPOINT: "/e.sock" }, file: { "runtime-endpoint": "/f.sock" } }, { runtime: "/e.sock", image: "/e.sock" }],
    [{ ...base, env: { BERTH_RUNTIME_ENDPOINT: "/b.sock", CONTAINER_RUNTIME_ENDPOINT: "/e.sock" } }, { runtime: "/b.sock", image: "/b.sock" }],
    [{ ...base, globalFlag: "/g.sock", env: { BERTH_RUNTIME_ENDPOINT: "/b.sock" } }, { runtime: "/g.sock", image: "/g.sock" }],
    [{ ...base, flag: "/c.sock", globalFlag: "/g.sock" }, { runtime: "/c.sock", image: "/c.sock" }],
    [{ ...base, globalFlag: "/g.sock", env: { IMAGE_SERVICE_ENDPOINT: "/i.sock" } }, { runtime: "/g.sock", image: "/i.sock" }],
    [{ ...base, file: { "image-endpoint": "/fi.sock" }, globalImageFlag: "/gi.sock" }, { runtime: "/run/berth/berth.sock", image: "/gi.sock" }],
    [{ ...base, file: { "image-endpoint": "/fi.sock" } }, { runtime: "/run/berth/berth.sock", image: "/fi.sock" }],
    [{ ...base, imageFlag: "/ci.sock", globalImageFlag: "/gi.sock" }, { runtime: "/run/berth/berth.sock", image: "/ci.sock" }],
  ];
  for (const [src, want] of rows) assert.deepEqual(resolveEndpoints(src), want, JSON.stringify(src));
});

test("timeouts: durations, bare seconds (crictl.yaml), 0 means the default, junk is refused", () => {
  assert.equal(timeoutMs(undefined), undefined);
  assert.equal(timeoutMs("5s"), 5000);
  assert.equal(timeoutMs("250ms"), 250);
  assert.equal(timeoutMs(7), 7000);
  assert.equal(timeoutMs("0"), 10_000);
  assert.throws(() => timeoutMs("soon"), /--timeout "soon": expected a duration/);
});
