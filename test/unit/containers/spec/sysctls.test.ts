// Pod sysctls in the container spec: namespaced only, never the host's namespaces.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildSysctls } from "../../../../src/containers/spec/sysctls.js";
import { INVALID, throwsCode } from "./fixtures.js";

const POD = { hostNetwork: false, hostIpc: false };

test("namespaced sysctls pass, slash form becomes dot form", () => {
  assert.deepEqual(buildSysctls({ "net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1", "net/core/somaxconn": "1024", "fs.mqueue.msg_max": "20" }, POD), {
    "fs.mqueue.msg_max": "20",
    "kernel.shm_rmid_forced": "1",
    "net.core.somaxconn": "1024",
    "net.ipv4.ip_unprivileged_port_start": "0",
  });
  // runc 1.1 cannot write an interface name with a dot; the pod's pins already carry it.
  assert.deepEqual(buildSysctls({ "net/ipv4/conf/eth0.100/forwarding": "1" }, POD), {});
});

test("host namespaces and non-namespaced sysctls are refused", () => {
  throwsCode(() => buildSysctls({ "net.ipv4.ip_forward": "1" }, { hostNetwork: true, hostIpc: false }), INVALID, /not allowed with host network/);
  throwsCode(() => buildSysctls({ "kernel.msgmax": "1" }, { hostNetwork: false, hostIpc: true }), INVALID, /not allowed with host IPC/);
  throwsCode(() => buildSysctls({ "kernel.panic": "1" }, POD), INVALID, /kernel\.panic is not namespaced/);
  throwsCode(() => buildSysctls({ "net.ipv4..x": "1" }, POD), INVALID, /not a valid sysctl name/);
  throwsCode(() => buildSysctls({ "net.core.somaxconn": "1\nkernel.panic=1" }, POD), INVALID, /newline/);
});
