// The stop signal: names with or without SIG, numbers, real-time signals, and the CRI config
// winning over the image, which wins over SIGTERM.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSignal, stopSignalOf } from "../../../src/containers/signals.js";
import { Signal } from "../../../src/generated/runtime/v1/api.js";

test("parseSignal reads names, numbers and RTMIN+n", () => {
  assert.equal(parseSignal("SIGTERM"), "SIGTERM");
  assert.equal(parseSignal("usr1"), "SIGUSR1");
  assert.equal(parseSignal("9"), 9);
  assert.equal(parseSignal("RTMIN+3"), 37);
  assert.equal(parseSignal("SIGRTMAX-1"), 63);
  assert.throws(() => parseSignal("SIGNOPE"), /not a signal/);
  assert.throws(() => parseSignal("99"), /not a signal/);
});

test("CRI stop_signal, else the image's StopSignal, else SIGTERM", () => {
  assert.equal(stopSignalOf(Signal.SIGUSR2, "SIGUSR1"), "SIGUSR2");
  assert.equal(stopSignalOf(Signal.RUNTIME_DEFAULT, "SIGUSR1"), "SIGUSR1");
  assert.equal(stopSignalOf(Signal.RUNTIME_DEFAULT, "QUIT"), "SIGQUIT");
  assert.equal(stopSignalOf(Signal.RUNTIME_DEFAULT, undefined), "SIGTERM");
  assert.equal(stopSignalOf(Signal.RUNTIME_DEFAULT, "bogus"), "SIGTERM", "an unusable image value does not block stopping");
  assert.equal(stopSignalOf(Signal.SIGRTMINPLUS1, undefined), 35);
  assert.equal(stopSignalOf(Signal.SIGCLD, undefined), "SIGCHLD");
});
