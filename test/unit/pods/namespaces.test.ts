// The sysctl name rules pods accept (namespaced only, per namespace, both name forms); the real
// pinning is exercised by test/integration/pods/namespaces.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sysctlDotName, validateSysctls } from "../../../src/pods/namespaces.js";

test("sysctl validation: namespaced only, per namespace, both name forms", () => {
  const pod = { hostNetwork: false, hostIpc: false };
  assert.deepEqual(
    validateSysctls({ "net.core.somaxconn": "1024", "kernel.sem": "250 32000 32 128", "fs.mqueue.msg_max": "20", "kernel.msgmax": "9000" }, pod),
    ["fs.mqueue.msg_max=20", "kernel.msgmax=9000", "kernel.sem=250 32000 32 128", "net.core.somaxconn=1024"],
  );
  assert.throws(() => validateSysctls({ "kernel.hostname": "x" }, pod), /sysctl kernel\.hostname is not namespaced/);
  assert.throws(() => validateSysctls({ "vm.swappiness": "1" }, pod), /sysctl vm\.swappiness is not namespaced/);
  assert.throws(() => validateSysctls({ "kernel.semx": "1" }, pod), /not namespaced/);
  assert.throws(() => validateSysctls({ "net.core.somaxconn": "1" }, { hostNetwork: true, hostIpc: false }), /sysctl net\.core\.somaxconn is not allowed with host network/);
  assert.throws(() => validateSysctls({ "kernel.shmall": "1" }, { hostNetwork: false, hostIpc: true }), /host IPC/);
  assert.throws(() => validateSysctls({ "net/../../vm/x": "1" }, pod), /not a valid sysctl name/);
  assert.throws(() => validateSysctls({ "net.core.x": "1\nvm.y=2" }, pod), /newline/);
  // Slash form: "." inside a component belongs to the name (an interface like eth0.100).
  assert.equal(sysctlDotName("net/ipv4/conf/eth0.100/forwarding"), "net.ipv4.conf.eth0/100.forwarding");
  assert.equal(sysctlDotName("kernel.shmmax"), "kernel.shmmax");
  assert.throws(() => validateSysctls({ "kernel/hostname": "x" }, pod), /not namespaced/);
});
