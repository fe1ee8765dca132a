// The stop signal: names with or without SIG, numbers, real-time signals, and the CRI config
// winning over the image, which wins over SIGTERM.
import assert from "node:assert/strict";
import { test } from "node:test";
import { criSignalFromName, effectiveStopSignal, isKnownCriSignal, parseSignal, stopSignalOf } from "../../../src/containers/signals.js";
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

test("the CRI Signal enum by its CRI 1.36 name and its 1.37 SIGNAL_ name; anything else is UNRECOGNIZED", () => {
  assert.equal(criSignalFromName("SIGUSR1"), Signal.SIGUSR1);
  assert.equal(criSignalFromName("SIGNAL_SIGUSR1"), Signal.SIGUSR1);
  assert.equal(criSignalFromName("signal_sigrtminplus3"), Signal.SIGRTMINPLUS3);
  assert.equal(criSignalFromName("SIGNAL_RUNTIME_DEFAULT"), Signal.RUNTIME_DEFAULT);
  assert.equal(criSignalFromName("RUNTIME_DEFAULT"), Signal.RUNTIME_DEFAULT);
  assert.equal(criSignalFromName("QUIT"), Signal.SIGQUIT);
  assert.equal(criSignalFromName("SIGNAL_QUIT"), Signal.SIGQUIT);
  assert.equal(criSignalFromName("SIGNOPE"), Signal.UNRECOGNIZED);
  assert.equal(criSignalFromName("SIGNAL_"), Signal.UNRECOGNIZED);
  assert.ok(isKnownCriSignal(Signal.SIGRTMAX));
  assert.ok(!isKnownCriSignal(99 as Signal));
  assert.ok(!isKnownCriSignal(Signal.UNRECOGNIZED));
});

test("ContainerStatus.stop_signal is the effective one: the config's, else the image's, else SIGTERM", () => {
  assert.equal(effectiveStopSignal(Signal.SIGUSR2, "SIGUSR1"), Signal.SIGUSR2);
  assert.equal(effectiveStopSignal(Signal.RUNTIME_DEFAULT, "SIGUSR1"), Signal.SIGUSR1);
  assert.equal(effectiveStopSignal(Signal.RUNTIME_DEFAULT, "3"), Signal.SIGQUIT);
  assert.equal(effectiveStopSignal(Signal.RUNTIME_DEFAULT, "RTMIN+3"), Signal.SIGRTMINPLUS3);
  assert.equal(effectiveStopSignal(Signal.RUNTIME_DEFAULT, "SIGRTMAX"), Signal.SIGRTMAX);
  assert.equal(effectiveStopSignal(Signal.RUNTIME_DEFAULT, undefined), Signal.SIGTERM);
  assert.equal(effectiveStopSignal(Signal.RUNTIME_DEFAULT, "bogus"), Signal.SIGTERM, "what Stop sends");
});
