// Command line, environment and working directory merging between image config and CRI config.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_PATH, mergeEnv, processArgs, workingDir } from "../../../../src/containers/spec/process.js";
import type { ImageConfig } from "../../../../src/containers/spec/input.js";
import { INVALID, throwsCode } from "./fixtures.js";

const kv = (key: string, value: string) => ({ key, value: Buffer.from(value) });

test("args: Kubernetes' command/args table against ENTRYPOINT/CMD", () => {
  const img: ImageConfig = { Entrypoint: ["/entry", "-x"], Cmd: ["serve", "--port=80"] };
  const rows: [string[], string[], string[]][] = [
    [[], [], ["/entry", "-x", "serve", "--port=80"]], // neither: ENTRYPOINT + CMD
    [["/bin/app"], [], ["/bin/app"]], // command only: CMD dropped
    [[], ["run", "--fast"], ["/entry", "-x", "run", "--fast"]], // args only: replace CMD
    [["/bin/app"], ["a", "b"], ["/bin/app", "a", "b"]], // both
  ];
  for (const [command, args, want] of rows) assert.deepEqual(processArgs(command, args, img), want, `command=${command} args=${args}`);
});

test("args: images with only CMD, only ENTRYPOINT, or ENTRYPOINT [\"\"]", () => {
  assert.deepEqual(processArgs([], [], { Cmd: ["sh"] }), ["sh"]);
  assert.deepEqual(processArgs([], ["-c", "true"], { Cmd: ["sh"] }), ["-c", "true"]);
  assert.deepEqual(processArgs([], [], { Entrypoint: ["/init"] }), ["/init"]);
  assert.deepEqual(processArgs([], [], { Entrypoint: [""], Cmd: ["sh"] }), ["sh"]);
  assert.deepEqual(processArgs([], ["x"], { Entrypoint: null, Cmd: null }), ["x"]); // JSON null fields are absent
});

test("args: nothing to run, or NUL, is INVALID_ARGUMENT", () => {
  throwsCode(() => processArgs([], [], {}), INVALID, /no command specified/);
  throwsCode(() => processArgs([], [], { Entrypoint: [""] }), INVALID, /no command specified/);
  throwsCode(() => processArgs(["a\0b"], [], {}), INVALID, /NUL/);
});

test("env: default PATH, HOSTNAME, image env, CRI env wins in place", () => {
  assert.deepEqual(mergeEnv({}, [], "web-0"), [`PATH=${DEFAULT_PATH}`, "HOSTNAME=web-0"]);
  const env = mergeEnv(
    { Env: ["PATH=/opt/bin:/bin", "LANG=C", "HOME=/root", "HOSTNAME=from-image"] },
    [kv("LANG", "C.UTF-8"), kv("EXTRA", "a=b=c"), kv("PATH", "/usr/bin")],
    "web-0",
  );
  assert.deepEqual(env, ["PATH=/usr/bin", "HOSTNAME=from-image", "LANG=C.UTF-8", "HOME=/root", "EXTRA=a=b=c"]);
});

test("env: image PATH replaces the default; an empty value is kept", () => {
  const env = mergeEnv({ Env: ["PATH=/opt/bin"] }, [kv("EMPTY", "")], "h");
  assert.deepEqual(env, ["PATH=/opt/bin", "HOSTNAME=h", "EMPTY="]);
});

test("env: malformed image entries are dropped; bad CRI names and values are refused", () => {
  assert.deepEqual(mergeEnv({ Env: ["", "=oops", "OK=1"] }, [], "h"), [`PATH=${DEFAULT_PATH}`, "HOSTNAME=h", "OK=1"]);
  throwsCode(() => mergeEnv({}, [kv("", "x")], "h"), INVALID, /variable name ""/);
  throwsCode(() => mergeEnv({}, [kv("A=B", "x")], "h"), INVALID, /variable name "A=B"/);
  throwsCode(() => mergeEnv({}, [kv("A", "x\0y")], "h"), INVALID, /NUL/);
  throwsCode(() => mergeEnv({}, [{ key: "BIN", value: Buffer.from([0xff, 0xfe]) }], "h"), INVALID, /envs\["BIN"\].*UTF-8/);
});

test("working dir: CRI, then image, then /; must be absolute; cleaned", () => {
  assert.equal(workingDir("/srv/app/", { WorkingDir: "/img" }), "/srv/app");
  assert.equal(workingDir("", { WorkingDir: "/img//x/./" }), "/img/x");
  assert.equal(workingDir("", {}), "/");
  throwsCode(() => workingDir("relative", {}), INVALID, /working_dir "relative" must be an absolute path/);
  throwsCode(() => workingDir("", { WorkingDir: "app" }), INVALID, /image config WorkingDir "app"/);
});
