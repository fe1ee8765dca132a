// Pod IPs from CNI results of each version: sandbox interfaces only, IPv4 first.
import assert from "node:assert/strict";
import { test } from "node:test";
import { podIps } from "../../../../src/network/cni/result.js";
import type { CniResult } from "../../../../src/network/cni/types.js";

test("1.0.0 result: only addresses on the sandbox's eth0; IPv4 is primary even when listed second", () => {
  const r: CniResult = {
    cniVersion: "1.0.0",
    interfaces: [{ name: "br0", mac: "aa" }, { name: "veth1", mac: "bb" }, { name: "eth0", mac: "cc", sandbox: "/run/netns/p" }],
    ips: [
      { address: "10.1.0.1/24", interface: 0 },
      { address: "fd00::5/64", interface: 2 },
      { address: "10.1.0.5/24", gateway: "10.1.0.1", interface: 2 },
    ],
  };
  assert.deepEqual(podIps(r), { primary: "10.1.0.5", additional: ["fd00::5"] });
});

test("0.4.0 result without interface indexes, and 0.2.0 ip4/ip6", () => {
  assert.deepEqual(podIps({ cniVersion: "0.4.0", ips: [{ version: "6", address: "fd00::2/64" }] }), { primary: "fd00::2", additional: [] });
  assert.deepEqual(podIps({ cniVersion: "0.2.0", ip4: { ip: "10.2.0.3/16" }, ip6: { ip: "fd00::3/64" } }), {
    primary: "10.2.0.3",
    additional: ["fd00::3"],
  });
});

test("no addresses: empty primary", () => {
  assert.deepEqual(podIps({ cniVersion: "1.0.0" }), { primary: "", additional: [] });
  assert.deepEqual(podIps(undefined), { primary: "", additional: [] });
});
