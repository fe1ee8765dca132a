// Tests of the posix_spawn child: exit codes and signals, pipes each way, extra fds, cwd, env,
// sessions, reset signal dispositions, start failures, and that the daemon reaps what it starts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { libcUnavailable } from "../../../src/util/libc.js";
import { spawnProcess, type Child } from "../../../src/util/spawn.js";

function collect(r: Readable | null): Promise<string> {
  return new Promise((res) => {
    let s = "";
    if (!r) return res("");
    r.on("data", (d: Buffer) => (s += d.toString("utf8")));
    r.on("close", () => res(s));
  });
}

function closed(c: Child): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((res) => c.once("close", (code: number | null, sig: NodeJS.Signals | null) => res([code, sig])));
}

test("posix_spawn is what runs children here (koffi loads)", () => {
  assert.equal(libcUnavailable(), "");
});

test("stdout and stderr are piped apart; the exit code arrives with close", async () => {
  const c = spawnProcess("sh", ["-c", "echo out; echo err >&2; exit 7"], { stdio: ["ignore", "out", "out"] });
  const [out, err, [code, sig]] = await Promise.all([collect(c.stdout), collect(c.stderr), closed(c)]);
  assert.equal(out, "out\n");
  assert.equal(err, "err\n");
  assert.equal(code, 7);
  assert.equal(sig, null);
  assert.equal(c.exitCode, 7);
});

test("stdin written and ended reaches the child, which sees its end", async () => {
  const c = spawnProcess("sh", ["-c", "wc -c; cat >/dev/null"], { stdio: ["in", "out", "ignore"] });
  const done = closed(c);
  const out = collect(c.stdout);
  c.stdin!.end("hello world");
  assert.equal((await out).trim(), "11");
  assert.deepEqual(await done, [0, null]);
});

test("a child killed by a signal reports the signal and no code", async () => {
  const c = spawnProcess("sleep", ["30"], {});
  const done = closed(c);
  await new Promise((r) => c.once("spawn", r));
  assert.ok(c.kill("SIGKILL"));
  assert.deepEqual(await done, [null, "SIGKILL"]);
  assert.equal(c.kill("SIGKILL"), false, "a reaped child is never signalled again");
});

test("extra fds: one the child writes, one it reads", async () => {
  const c = spawnProcess("sh", ["-c", "read x <&4; echo got:$x >&3"], { stdio: ["ignore", "ignore", "ignore", "out", "in"] });
  const done = closed(c);
  const three = collect(c.stdio[3] as Readable);
  (c.stdio[4] as NodeJS.WritableStream).end("ping\n");
  assert.equal(await three, "got:ping\n");
  assert.deepEqual(await done, [0, null]);
});

test("cwd, env and a new session (detached) are the child's", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-spawn-"));
  try {
    const c = spawnProcess("/bin/sh", ["-c", 'pwd; echo "$ONLY:$HOME"; cut -d" " -f6 /proc/self/stat; echo $$'], {
      stdio: ["ignore", "out", "ignore"],
      cwd: dir,
      env: { ONLY: "this", PATH: "/usr/bin:/bin" },
      detached: true,
    });
    const done = closed(c);
    const lines = (await collect(c.stdout)).trim().split("\n");
    assert.equal(lines[0], dir);
    assert.equal(lines[1], "this:", "only the given environment (no HOME)");
    // /proc/self/stat's sixth field is the session id, of `cut`, which the shell started in its session.
    assert.equal(lines[2], String(c.pid));
    assert.equal(lines[3], String(c.pid));
    assert.deepEqual(await done, [0, null]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("without detached the child stays in the daemon's session", async () => {
  const c = spawnProcess("/bin/sh", ["-c", 'cut -d" " -f6 /proc/self/stat'], { stdio: ["ignore", "out", "ignore"] });
  const done = closed(c);
  const sid = (await collect(c.stdout)).trim();
  await done;
  const own = (await import("node:fs")).readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[3];
  assert.equal(sid, own);
});

test("the child starts with no signal ignored or blocked (Node ignores SIGPIPE)", async () => {
  const c = spawnProcess("/bin/sh", ["-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status"], { stdio: ["ignore", "out", "ignore"] });
  const done = closed(c);
  const out = await collect(c.stdout);
  await done;
  assert.match(out, /SigBlk:\s+0+\n/);
  assert.match(out, /SigIgn:\s+0+\n/);
});

test("a missing program is an 'error' event naming it (ENOENT), not an exit", async () => {
  const c = spawnProcess("/nonexistent/berth-tool", ["x"], { stdio: ["ignore", "out", "out"] });
  const err = await new Promise<NodeJS.ErrnoException>((res) => c.once("error", res));
  assert.equal(err.code, "ENOENT");
  assert.match(err.message, /berth-tool/);
  assert.equal(c.pid, undefined);
});

test("NUL in an argument throws before anything starts", () => {
  assert.throws(() => spawnProcess("echo", ["a\0b"]), /NUL/);
});

test("a child is reaped even when something keeps its pipe open after it exits", async () => {
  // The background sleep holds stdout: 'exit' comes from SIGCHLD, 'close' only once the pipe ends.
  const c = spawnProcess("sh", ["-c", "sleep 0.5 & exit 3"], { stdio: ["ignore", "out", "ignore"] });
  const done = closed(c);
  const code = await new Promise((res) => c.once("exit", res));
  assert.equal(code, 3);
  const stat = await import("node:fs/promises").then((f) => f.readFile(`/proc/${c.pid}/stat`, "utf8").catch(() => ""));
  assert.equal(stat, "", "no zombie is left");
  const out = collect(c.stdout);
  assert.deepEqual(await done, [3, null]);
  await out;
});

test("many children at once each get their own status", async () => {
  const kids = Array.from({ length: 20 }, (_, i) => spawnProcess("sh", ["-c", `exit ${i}`]));
  const codes = await Promise.all(kids.map((k) => closed(k).then(([code]) => code)));
  assert.deepEqual(codes, Array.from({ length: 20 }, (_, i) => i));
});

test("a bare name is looked up in the child's PATH; one found nowhere is ENOENT", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-spawn-path-"));
  try {
    await writeFile(join(dir, "berth-probe-tool"), "#!/bin/sh\necho probe:$1\n", { mode: 0o755 });
    const c = spawnProcess("berth-probe-tool", ["x"], { stdio: ["ignore", "out", "ignore"], env: { PATH: `/nonexistent:${dir}` } });
    const done = closed(c);
    assert.equal(await collect(c.stdout), "probe:x\n");
    assert.deepEqual(await done, [0, null]);
    const missing = spawnProcess("berth-probe-tool", [], { env: { PATH: "/nonexistent" } });
    const err = await new Promise<NodeJS.ErrnoException>((res) => missing.once("error", res));
    assert.equal(err.code, "ENOENT");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an open fd of ours can be the child's (a log file as its stderr)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-spawn-fd-"));
  try {
    const f = await open(join(dir, "err.log"), "w");
    const c = spawnProcess("sh", ["-c", "echo to-file >&2"], { stdio: ["ignore", "ignore", f.fd] });
    const done = closed(c);
    assert.deepEqual(await done, [0, null]);
    await f.close();
    assert.equal(await readFile(join(dir, "err.log"), "utf8"), "to-file\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a name found in PATH before and moved since is looked up afresh", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-spawn-moved-"));
  try {
    for (const d of ["a", "b"]) await mkdir(join(dir, d));
    const env = { PATH: `${join(dir, "a")}:${join(dir, "b")}` };
    await writeFile(join(dir, "a", "berth-moving-tool"), "#!/bin/sh\necho a\n", { mode: 0o755 });
    const first = spawnProcess("berth-moving-tool", [], { stdio: ["ignore", "out", "ignore"], env });
    assert.equal(await collect(first.stdout), "a\n");
    await rename(join(dir, "a", "berth-moving-tool"), join(dir, "b", "berth-moving-tool"));
    await writeFile(join(dir, "b", "berth-moving-tool"), "#!/bin/sh\necho b\n", { mode: 0o755 });
    const second = spawnProcess("berth-moving-tool", [], { stdio: ["ignore", "out", "ignore"], env });
    assert.equal(await collect(second.stdout), "b\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a signal asked for while the child is still being started reaches it once it runs", async () => {
  const c = spawnProcess("sleep", ["30"], {});
  const done = closed(c);
  assert.equal(c.pid, undefined, "the spawn finishes off the loop");
  assert.ok(c.kill("SIGKILL"));
  assert.deepEqual(await done, [null, "SIGKILL"]);
});
