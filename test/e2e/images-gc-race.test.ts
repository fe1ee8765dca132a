// Image GC racing pulls, creates and removals: GC runs every few milliseconds (images.gc_interval)
// while images are pulled, removed and pulled again and containers are created from them; every
// image left and every container's rootfs must be whole, and what GC did must be logged. The
// schedule also takes ingest leftovers and the directories of containers that have no record.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { call } from "../../src/cli/client.js";
import { pushImage, type PushedImage } from "../fixtures/images.js";
import { busyboxLayer } from "../fixtures/layers.js";
import { createCtr, ctrConfig, ctrEnv, exec, pull, runPodWithLogs, sharedRegistry, startCtr, type Registry } from "./containers-kit.js";
import { remove, status } from "./images-kit.js";

const IMAGES = 4;
const ROUNDS = 3;

let r: Registry & { stop(): Promise<void> };
const images: { img: PushedImage; data: Buffer }[] = [];
before(async () => {
  r = await sharedRegistry();
  for (let i = 0; i < IMAGES; i++) {
    const data = randomBytes(256 * 1024);
    const img = await pushImage(r.reg, {
      repo: `gc${i}`, tag: "v1", compression: i % 2 ? "zstd" : "gzip", config: { Cmd: ["sh"] },
      layers: [busyboxLayer(), { entries: [{ type: "dir", path: "data" }, { type: "file", path: `data/f${i}`, content: data }] }],
    });
    images.push({ img, data });
  }
});
after(async () => {
  await r.stop();
});

test("GC running every few ms while pulls, creates and removals run never takes what is in use", async (t) => {
  const env = await ctrEnv(t, r, { env: { BERTH_IMAGES_GC_INTERVAL: "5ms" } });
  const { d } = env;
  // The schedule alone (no RemoveImage yet) collects an orphaned temp file of the ingest dir.
  // So do the bundle and data dirs (exit file included) of a container that has no record.
  const stray = join(d.root, "content", "ingest", "00112233aabbccdd.tmp");
  await writeFile(stray, "left by a crash");
  const gone = "ab".repeat(32);
  const goneDirs = [join(d.state, "containers", gone), join(d.root, "containers", gone)];
  for (const dir of goneDirs) await mkdir(dir, { recursive: true });
  await writeFile(join(goneDirs[0]!, "config.json"), "{}");
  await writeFile(join(goneDirs[1]!, "oom"), "");
  const exitFile = join(d.state, "exits", gone);
  await writeFile(exitFile, "0");
  goneDirs.push(exitFile);
  const left = (): boolean => [stray, ...goneDirs].some((p) => existsSync(p));
  for (let n = 0; n < 500 && left(); n++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(existsSync(stray), false, "the scheduled GC removed the orphaned temp file");
  for (const dir of goneDirs) assert.equal(existsSync(dir), false, `the scheduled GC removed ${dir}`);
  for (let n = 0; n < 500 && !/image GC removed an ingest leftover/.test(d.logs()); n++) await new Promise((res) => setTimeout(res, 20));
  assert.match(d.logs(), /image GC removed an ingest leftover/);
  const podId = await runPodWithLogs(env);
  const ctrs: { id: string; i: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Pull every image while containers are created from the ones kept last round.
    const creates = round === 0 ? [] : images.map((_, i) => i).filter((i) => i % 2 === (round - 1) % 2).map(async (i) => {
      const id = await createCtr(env, podId, ctrConfig(env, { image: { image: images[i]!.img.reference, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" }, command: ["sleep", "1000"] }));
      await startCtr(d, id);
      ctrs.push({ id, i });
    });
    if (round > 0) await Promise.all(creates.concat(images.map((x) => pull(d, x.img.reference).then(() => undefined))));
    else await Promise.all(images.map((x) => pull(d, x.img.reference)));
    // Remove half the images (some under running containers): GC takes what only they held.
    await Promise.all(images.filter((_, i) => i % 2 !== round % 2).map((x) => remove(d, x.img.reference)));
  }
  await new Promise((res) => setTimeout(res, 100)); // a few more scheduled collections
  for (const { img } of images) {
    const s = await status(d, img.reference, true);
    if (!s.image) continue; // removed in the last round
    const info = JSON.parse(s.info["info"] ?? "{}") as { lowerDirs: string[] };
    assert.equal(info.lowerDirs.length, 2, `${img.reference} has its layers`);
    for (const dir of info.lowerDirs) assert.ok(existsSync(join(dir, "bin")) || existsSync(join(dir, "data")), `layer ${dir} of ${img.reference} is whole`);
  }
  assert.ok(ctrs.length > 0);
  for (const { id, i } of ctrs) {
    const out = await exec(d, id, ["sh", "-c", `wc -c < /data/f${i}; test -x /bin/sh && echo sh`]);
    assert.equal(out.exitCode, 0, `container ${id}: ${Buffer.from(out.stderr).toString()}`);
    assert.equal(Buffer.from(out.stdout).toString().trim().split(/\s+/).join(" "), `${images[i]!.data.length} sh`);
  }
  assert.match(d.logs(), /image GC removed an unreferenced layer/);
  const c = d.client;
  for (const { id } of ctrs) await call(c, c.runtime, c.runtime.stopContainer, { containerId: id, timeout: 0n }, 60_000);
});
