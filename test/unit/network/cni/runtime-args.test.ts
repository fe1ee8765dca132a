// CNI_ARGS, capability args (hostPorts, DNS, bandwidth quantities) and the per-plugin netconf
// that injects only declared capabilities.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bandwidthFromAnnotations,
  capabilityArgs,
  cniArgs,
  parseQuantity,
  pluginNetconf,
  portMappings,
} from "../../../../src/network/cni/runtime-args.js";
import type { NetConfList } from "../../../../src/network/cni/types.js";

const pod = { id: "abc123", name: "web", namespace: "default", uid: "u-1" };

test("CNI_ARGS carries the pod identity in kubelet's order and refuses framing characters", () => {
  assert.equal(cniArgs(pod), "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1");
  assert.throws(() => cniArgs({ ...pod, name: "a;b" }), /CNI_ARGS/);
});

test("Kubernetes quantities", () => {
  assert.equal(parseQuantity("10M"), 10_000_000);
  assert.equal(parseQuantity("1Gi"), 2 ** 30);
  assert.equal(parseQuantity("1.5k"), 1500);
  assert.equal(parseQuantity("1e6"), 1_000_000);
  assert.equal(parseQuantity("100"), 100);
  assert.equal(parseQuantity("1500m"), 2, "rounded up like Quantity.Value()");
  assert.throws(() => parseQuantity("10 MB"), /not a Kubernetes quantity/);
  assert.throws(() => parseQuantity(""), /not a Kubernetes quantity/);
});

test("bandwidth from annotations, with kubelet's reasonableness bounds", () => {
  assert.equal(bandwidthFromAnnotations({}), undefined);
  assert.deepEqual(bandwidthFromAnnotations({ "kubernetes.io/ingress-bandwidth": "1M", "kubernetes.io/egress-bandwidth": "2M" }), {
    ingressRate: 1_000_000,
    ingressBurst: 4294967295,
    egressRate: 2_000_000,
    egressBurst: 4294967295,
  });
  assert.throws(() => bandwidthFromAnnotations({ "kubernetes.io/egress-bandwidth": "10" }), /unreasonably small/);
  assert.throws(() => bandwidthFromAnnotations({ "kubernetes.io/egress-bandwidth": "2P" }), /unreasonably large/);
});

test("port mappings keep only host ports and validate them", () => {
  assert.deepEqual(
    portMappings([
      { hostPort: 0, containerPort: 80 },
      { hostPort: 8080, containerPort: 80, protocol: "TCP" },
      { hostPort: 5353, containerPort: 53, protocol: "udp", hostIp: "127.0.0.1" },
    ]),
    [
      { hostPort: 8080, containerPort: 80, protocol: "tcp" },
      { hostPort: 5353, containerPort: 53, protocol: "udp", hostIP: "127.0.0.1" },
    ],
  );
  assert.throws(() => portMappings([{ hostPort: 70000, containerPort: 80 }]), /hostPort 70000/);
  assert.throws(() => portMappings([{ hostPort: 80, containerPort: 80, protocol: "icmp" }]), /protocol/);
});

test("runtimeConfig gets only the capabilities a plugin declares; prevResult and list fields injected", () => {
  const list: NetConfList = {
    cniVersion: "1.0.0",
    name: "net",
    disableCheck: false,
    plugins: [{ type: "bridge" }, { type: "portmap", capabilities: { portMappings: true, bandwidth: false }, runtimeConfig: { keep: 1 } }],
  };
  const caps = capabilityArgs({
    ports: [{ hostPort: 8080, containerPort: 80 }],
    dns: { servers: ["10.0.0.10"] },
    annotations: { "kubernetes.io/ingress-bandwidth": "1M" },
  });
  assert.deepEqual(Object.keys(caps).sort(), ["bandwidth", "dns", "portMappings"]);
  const bridge = pluginNetconf(list, list.plugins[0]!, caps, undefined);
  assert.deepEqual(bridge, { type: "bridge", name: "net", cniVersion: "1.0.0" });
  const prev = { cniVersion: "1.0.0", ips: [] };
  const pm = pluginNetconf(list, list.plugins[1]!, caps, prev);
  assert.deepEqual(pm["runtimeConfig"], { keep: 1, portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] });
  assert.deepEqual(pm["prevResult"], prev);
  assert.deepEqual(capabilityArgs({ dns: { servers: [], searches: [] } }), {}, "empty DNS config is not passed");
});
