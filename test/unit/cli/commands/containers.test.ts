// Pure parts of the container CLI: CRI log lines (P/F, streams, tags), --since, exec argument
// splitting, --memory sizes and crictl's human sizes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseLogLine, parseSince } from "../../../../src/cli/commands/container-logs.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { humanSize, parseBytes, readContainerConfig, splitExecArgs } from "../../../../src/cli/commands/containers.js";
import { Signal } from "../../../../src/generated/runtime/v1/api.js";

test("CRI log lines: timestamp, stream, P/F tag (with extra tags), text with spaces", () => {
  assert.deepEqual(parseLogLine("2026-11-28T10:46:32.688361082+00:00 stdout P partial text"), {
    time: "2026-11-28T10:46:32.688361082+00:00", ms: Date.parse("2026-11-28T10:46:32.688361082+00:00"), stream: "stdout", partial: true, text: "partial text",
  });
  assert.equal(parseLogLine("2026-11-28T10:46:32Z stderr F:x ")?.text, "");
  assert.equal(parseLogLine("2026-11-28T10:46:32Z stderr F")?.partial, false);
  assert.equal(parseLogLine("2026-11-28T10:46:32Z stdin F x"), undefined);
  assert.equal(parseLogLine("garbage"), undefined);
});

test("--since takes a time or a duration back from now", () => {
  assert.equal(parseSince("2026-01-02T13:23:37Z"), Date.parse("2026-01-02T13:23:37Z"));
  assert.equal(parseSince("42m", 10_000_000), 10_000_000 - 42 * 60_000);
  assert.throws(() => parseSince("yesterday"), /expected a time/);
});

test("exec: flags before the ID are ours, everything after is the command", () => {
  const values = new Set(["-r", "--runtime-endpoint", "-t"]);
  assert.deepEqual(splitExecArgs(["-r", "unix:///s", "abc", "ls", "-l", "-t", "x"], values), { flags: ["-r", "unix:///s"], rest: ["abc", "ls", "-l", "-t", "x"] });
  assert.deepEqual(splitExecArgs(["--timeout=5s", "--", "abc", "sh", "-c", "x"], values), { flags: ["--timeout=5s"], rest: ["abc", "sh", "-c", "x"] });
  assert.deepEqual(splitExecArgs(["-q"], values), { flags: ["-q"], rest: [] });
});

test("sizes: --memory with k/m/g; crictl-style human sizes", () => {
  assert.equal(parseBytes("64m", "memory"), 64n * 1024n * 1024n);
  assert.equal(parseBytes("1G", "memory"), 1024n ** 3n);
  assert.equal(parseBytes("4096", "memory"), 4096n);
  assert.throws(() => parseBytes("lots", "memory"), /expected bytes/);
  assert.equal(humanSize(0), "0B");
  assert.equal(humanSize(1_048_576n), "1.049MB");
  assert.equal(humanSize(999), "999B");
});

test("a container config's stop_signal is read under the CRI 1.36 and the 1.37 (SIGNAL_) enum names", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-cli-signal-"));
  try {
    const read = async (doc: string) => {
      await writeFile(join(dir, "c.yaml"), doc);
      return readContainerConfig(join(dir, "c.yaml"));
    };
    assert.equal((await read("metadata: {name: a}\nstop_signal: SIGUSR1\n")).stopSignal, Signal.SIGUSR1);
    assert.equal((await read("metadata: {name: a}\nstop_signal: SIGNAL_SIGUSR1\n")).stopSignal, Signal.SIGUSR1);
    assert.equal((await read('{"metadata": {"name": "a"}, "stopSignal": "SIGNAL_SIGQUIT"}')).stopSignal, Signal.SIGQUIT);
    assert.equal((await read("metadata: {name: a}\nstop_signal: 29\n")).stopSignal, Signal.SIGUSR1);
    await assert.rejects(read("metadata: {name: a}\nstop_signal: SIGNOPE\n"), /stop_signal "SIGNOPE" is not a CRI signal name/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
