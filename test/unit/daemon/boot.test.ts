// checkBoot tells a plain restart from one after a reboot: the boot id kept in the state dir, or
// for a state dir without one, whether it was emptied (no runc root) or is an older Berth's.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkBoot } from "../../../src/daemon/boot.js";

async function stateDir(t: { after(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "berth-boot-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test("an emptied state dir is a reboot; an older Berth's state (runc root, no marker) is not", async (t) => {
  const empty = await stateDir(t);
  assert.match((await checkBoot(empty)).rebooted ?? "", /emptied/);
  const older = await stateDir(t);
  await mkdir(join(older, "runc"));
  assert.equal((await checkBoot(older)).rebooted, undefined);
});

test("the boot id is kept by commit; the same boot is no reboot, another one is", async (t) => {
  const dir = await stateDir(t);
  await (await checkBoot(dir)).commit();
  const current = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  assert.equal((await readFile(join(dir, "boot_id"), "utf8")).trim(), current);
  assert.equal((await checkBoot(dir)).rebooted, undefined);
  await writeFile(join(dir, "boot_id"), "11111111-2222-3333-4444-555555555555\n");
  assert.match((await checkBoot(dir)).rebooted ?? "", /rebooted \(boot id 11111111-.* -> /);
});
