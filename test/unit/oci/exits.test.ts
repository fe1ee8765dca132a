// The exit watcher on its own, with files written the way conmon writes them (temp name, then
// rename): startup rescan, live events, waiters and their timeout, forget.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ExitWatcher, type ContainerExit } from "../../../src/oci/exits.js";

async function conmonWrite(dir: string, id: string, code: string): Promise<void> {
  const tmp = join(dir, `.${id}.AB12CD`);
  await writeFile(tmp, code);
  await rename(tmp, join(dir, id));
}

test("rescans exits written while nobody watched, then reports new ones once each", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-exits-"));
  const w = new ExitWatcher(join(dir, "exits"));
  t.after(async () => {
    w.close();
    await rm(dir, { recursive: true, force: true });
  });
  await w.start(); // makes the dir
  w.close();
  await conmonWrite(w.dir, "early", "0");
  await writeFile(join(w.dir, ".partial.XYZ"), "1");
  const seen: ContainerExit[] = [];
  const again = new ExitWatcher(w.dir);
  t.after(() => again.close());
  again.on("exit", (e) => seen.push(e));
  await again.start();
  assert.deepEqual(seen.map((e) => [e.id, e.code]), [["early", 0]]);

  const waiting = again.waitForExit("late", 5000);
  await conmonWrite(w.dir, "late", "137");
  const e = await waiting;
  assert.equal(e?.code, 137);
  assert.equal(again.exitOf("late")?.code, 137);
  await conmonWrite(w.dir, "late", "137"); // conmon writes two files per exit; the second must not re-emit
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen.map((x) => x.id), ["early", "late"]);

  assert.equal(await again.waitForExit("never", 60), undefined);
  await again.forget("late");
  assert.equal(again.exitOf("late"), undefined);
  assert.deepEqual((await readdir(w.dir)).sort(), [".partial.XYZ", "early"]);
});

test("an exit written before the waiter registers is still found; junk is ignored", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-exits-"));
  const w = new ExitWatcher(dir);
  t.after(async () => {
    w.close();
    await rm(dir, { recursive: true, force: true });
  });
  await w.start();
  await conmonWrite(dir, "quick", "3");
  assert.equal((await w.waitForExit("quick", 1000))?.code, 3);
  await writeFile(join(dir, "garbage"), "not a number");
  assert.equal(await w.waitForExit("garbage", 50), undefined);
  assert.equal(await w.readExit("absent"), undefined);
});

test("a wait longer than a timer can hold (a grace period over 24.8 days) waits, not 1 ms", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-exits-"));
  const w = new ExitWatcher(join(dir, "exits"));
  t.after(async () => {
    w.close();
    await rm(dir, { recursive: true, force: true });
  });
  await w.start();
  let settled = false;
  const waiting = w.waitForExit("long", 30 * 24 * 3600 * 1000).then((e) => ((settled = true), e));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(settled, false, "still waiting for the exit");
  await conmonWrite(w.dir, "long", "0");
  assert.equal((await waiting)?.code, 0);
});
