// Unit tests for the CRI metric set: descriptors fixed at start (PSI only where the host has it),
// every metric named by a descriptor with as many label values as the descriptor has keys.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MetricSet } from "../../../../src/containers/stats/metrics.js";
import type { Container } from "../../../../src/containers/record.js";
import type { Pod } from "../../../../src/pods/record.js";

const ctr = { rec: { id: "c1", podId: "p1", phase: "running", image: { name: "busybox" } }, config: { metadata: { name: "app" } } } as unknown as Container;
const pod = { rec: { id: "p1", phase: "ready" } } as unknown as Pod;
const psi = { some: { total: 3_000_000n, avg10: 0, avg60: 0, avg300: 0 }, full: { total: 1_000_000n, avg10: 0, avg60: 0, avg300: 0 } };

test("descriptors list PSI series only where the host has PSI", () => {
  const withPsi = new MetricSet(true).descriptors.map((d) => d.name);
  const without = new MetricSet(false).descriptors.map((d) => d.name);
  assert.ok(withPsi.includes("container_pressure_cpu_waiting_seconds_total"));
  assert.ok(!without.some((n) => n.startsWith("container_pressure_")));
  assert.ok(without.includes("container_cpu_usage_seconds_total") && without.includes("container_network_receive_bytes_total"));
  assert.equal(new Set(withPsi).size, withPsi.length, "names are unique");
});

test("every metric matches a descriptor: name known, one label value per key; values converted to cAdvisor units", () => {
  const set = new MetricSet(true);
  const byName = new Map(set.descriptors.map((d) => [d.name, d]));
  const snap = {
    at: 5n,
    containers: new Map([["c1", { sample: { cpuNs: 2_500_000_000n, memoryUsage: 100n, workingSet: 80n, pids: 3n, cpuPsi: psi }, layer: { bytes: 4096, inodes: 7, at: 4n } }]]),
    pods: new Map([["p1", { net: [{ name: "eth0", rxBytes: 10n, rxErrors: 0n, txBytes: 20n, txErrors: 1n }] }]]),
  };
  const [pm] = set.all([pod], () => [ctr], snap, "/var/lib/berth/containers");
  assert.equal(pm!.podSandboxId, "p1");
  const all = [...pm!.metrics, ...pm!.containerMetrics.flatMap((c) => c.metrics)];
  for (const m of all) {
    const d = byName.get(m.name);
    assert.ok(d, `${m.name} has a descriptor`);
    assert.equal(m.labelValues.length, d.labelKeys.length, m.name);
  }
  const value = (n: string) => all.find((m) => m.name === n)?.value?.value;
  assert.equal(value("container_cpu_usage_seconds_total"), 2n);
  assert.equal(value("container_memory_working_set_bytes"), 80n);
  assert.equal(value("container_processes"), 3n);
  assert.equal(value("container_fs_usage_bytes"), 4096n);
  assert.equal(value("container_pressure_cpu_waiting_seconds_total"), 3n);
  assert.equal(value("container_network_transmit_errors_total"), 1n);
  assert.equal(value("container_memory_swap"), undefined, "a figure the scan lacks is left out, not sent as 0");
});
