// The driver's readings of runc and conmon output, and the conmon command line it builds
// (flags as conmon 2.1.6 takes them), without running either.
import assert from "node:assert/strict";
import { test } from "node:test";
import { conmonCreateArgs, parseSyncMessage, type ConmonCreateOptions } from "../../../src/oci/conmon.js";
import { isNotExist, isNotRunning, Runc, runcErrorMessage } from "../../../src/oci/runc.js";

test("runc's message from JSON, logfmt or plain stderr", () => {
  assert.equal(
    runcErrorMessage('{"level":"warning","msg":"ignored","time":"t"}\n{"level":"error","msg":"exec failed: exec: \\"x\\": executable file not found in $PATH","time":"t"}\n'),
    'exec failed: exec: "x": executable file not found in $PATH',
  );
  assert.equal(runcErrorMessage('time="t" level=error msg="container \\"a\\" does not exist"\n'), 'container "a" does not exist');
  assert.equal(runcErrorMessage("plain words\n"), "plain words");
  assert.equal(runcErrorMessage(""), "");
  assert.ok(isNotExist("container does not exist"));
  assert.ok(isNotRunning("container not running"));
  assert.ok(isNotRunning("cannot exec in a stopped container"));
  assert.ok(!isNotRunning("cannot delete container a that is not stopped: running"));
});

test("sync pipe messages: --api-version 1 'data', legacy 'pid', failures with runc's stderr", () => {
  assert.deepEqual(parseSyncMessage('{"data": 4242}'), { value: 4242 });
  assert.deepEqual(parseSyncMessage('{"pid": 17}'), { value: 17 });
  assert.deepEqual(parseSyncMessage('{"data": -1, "message": "boom\\n"}'), { value: -1, message: "boom\n" });
  assert.throws(() => parseSyncMessage('{"other": 1}'));
  assert.throws(() => parseSyncMessage("not json"));
});

test("conmon's command line for create", () => {
  const base: ConmonCreateOptions = {
    conmonPath: "/usr/bin/conmon",
    runc: new Runc("/usr/sbin/runc", "/run/berth/runc"),
    id: "abc",
    bundleDir: "/run/berth/c/abc",
    logPath: "/var/log/pods/ns_p_uid/c/0.log",
    tty: false,
    stdin: false,
    stdinOnce: false,
    exitDir: "/run/berth/exits",
    persistDir: "/var/lib/berth/c/abc",
    socketDir: "/run/berth/socks",
    logLevel: "error",
    syslog: false,
    systemdCgroup: false,
    timeoutMs: 1000,
  };
  const args = conmonCreateArgs(base);
  const flag = (f: string): string | undefined => args[args.indexOf(f) + 1];
  assert.equal(flag("-r"), "/usr/sbin/runc");
  assert.equal(flag("-b"), "/run/berth/c/abc");
  assert.equal(flag("-p"), "/run/berth/c/abc/pidfile");
  assert.equal(flag("-P"), "/run/berth/c/abc/conmon-pidfile");
  assert.equal(flag("-l"), "k8s-file:/var/log/pods/ns_p_uid/c/0.log");
  assert.equal(flag("--exit-dir"), "/run/berth/exits");
  assert.equal(flag("--persist-dir"), "/var/lib/berth/c/abc");
  assert.equal(flag("--socket-dir-path"), "/run/berth/socks");
  const runtimeArgs = args.flatMap((a, i) => (a === "--runtime-arg" ? [args[i + 1]] : []));
  assert.deepEqual(runtimeArgs, ["--root=/run/berth/runc", "--log-format=json"]);
  for (const f of ["-t", "-i", "--leave-stdin-open", "-s", "--syslog", "--sync"]) assert.ok(!args.includes(f), f);

  assert.ok(conmonCreateArgs({ ...base, tty: true, stdin: true }).includes("-t"));
  assert.ok(!conmonCreateArgs({ ...base, tty: true, stdin: true }).includes("-i"));
  const stdin = conmonCreateArgs({ ...base, stdin: true });
  assert.ok(stdin.includes("-i") && stdin.includes("--leave-stdin-open"));
  assert.ok(!conmonCreateArgs({ ...base, stdin: true, stdinOnce: true }).includes("--leave-stdin-open"));
  assert.equal(conmonCreateArgs({ ...base, logPath: undefined })[conmonCreateArgs({ ...base, logPath: undefined }).indexOf("-l") + 1], "none");
  assert.ok(conmonCreateArgs({ ...base, systemdCgroup: true, syslog: true }).includes("-s"));
});
