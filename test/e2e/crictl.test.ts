// The reference Go client against Berth for images and pod sandboxes: crictl 1.26.1 pulls
// through a hosts.toml mirror, lists, inspects and removes images, and runs pods on real CNI.
// crictl comes from scripts/setup.sh (test/fixtures/crictl.ts): skipped where absent, failed under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { podEnv, run } from "./pods-kit.js";
import { startRegistry } from "../fixtures/registry.js";
import { pushBusybox } from "../fixtures/images.js";

import { crictlOrSkip } from "../fixtures/crictl.js";

test("crictl pull, images, inspecti, imagefsinfo, runp, pods, inspectp, stopp, rmp, rmi", async (t) => {
  const CRICTL = crictlOrSkip(t);
  if (!CRICTL) return;
  const reg = await startRegistry({});
  t.after(() => reg.stop());
  const pushed = await pushBusybox(reg, "library/busybox", "latest");
  // docker.io is served by the loopback registry as a mirror; its server is the same registry,
  // so nothing can fall back to the real Docker Hub.
  const certsD = await mkdtemp(join(tmpdir(), "berth-crictl-certsd-"));
  t.after(() => rm(certsD, { recursive: true, force: true }));
  await mkdir(join(certsD, "docker.io"), { recursive: true });
  await writeFile(join(certsD, "docker.io", "hosts.toml"), `server = "${reg.url}"\n[host."${reg.url}"]\ncapabilities = ["pull", "resolve"]\n`);

  const env = await podEnv(t, { podsToml: `[registry]\nconfig_path = "${certsD}"` });
  const crictl = async (...args: string[]) =>
    (await run(CRICTL, ["--runtime-endpoint", `unix://${env.d.socket}`, "--image-endpoint", `unix://${env.d.socket}`, ...args])).stdout;

  // Images.
  const pulled = await crictl("pull", "busybox");
  assert.match(pulled, new RegExp(`Image is up to date for ${pushed.configDigest}`));
  assert.match(await crictl("images"), /docker\.io\/library\/busybox\s+latest\s+[0-9a-f]{13}/);
  const inspect = JSON.parse(await crictl("inspecti", "busybox")) as { status: { id: string; repoDigests: string[] } };
  assert.equal(inspect.status.id, pushed.configDigest);
  assert.deepEqual(inspect.status.repoDigests, [`docker.io/library/busybox@${pushed.manifestDigest}`]);
  const fs = JSON.parse(await crictl("imagefsinfo")) as { status: { usedBytes: { value: string } } };
  assert.ok(Number(fs.status.usedBytes.value) > 0);

  // Pod sandboxes.
  const podFile = join(env.d.dir, "pod.json");
  await writeFile(podFile, JSON.stringify({ metadata: { name: "cri", namespace: "default", uid: "crictl-uid", attempt: 0 }, hostname: "cri-pod", log_directory: join(env.d.dir, "logs") }));
  const pod = (await crictl("runp", podFile)).trim();
  assert.match(pod, /^[0-9a-f]{64}$/);
  assert.match(await crictl("pods"), new RegExp(`${pod.slice(0, 13)}\\s+.*Ready\\s+cri\\s+default\\s+0\\s+runc`));
  const p = JSON.parse(await crictl("inspectp", pod)) as { status: { state: string; network: { ip: string } } };
  assert.equal(p.status.state, "SANDBOX_READY");
  assert.ok(p.status.network.ip.startsWith(env.prefix), `pod IP ${p.status.network.ip} on ${env.subnet}`);
  assert.match(await crictl("stopp", pod), /Stopped sandbox/);
  assert.match(await crictl("rmp", pod), /Removed sandbox/);
  assert.doesNotMatch(await crictl("pods", "-q"), new RegExp(pod));

  assert.match(await crictl("rmi", "busybox"), /Deleted: docker\.io\/library\/busybox:latest/);
  assert.doesNotMatch(await crictl("images", "-q"), /sha256/);
});
