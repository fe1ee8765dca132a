// The image commands of the `berth` CLI against a real daemon: pull (with credentials, plain
// progress lines off a terminal), images, inspecti, rmi, imagefsinfo — output shaped like crictl's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runBerth } from "../fixtures/daemon.js";
import { pushBusybox, pushRichImage } from "../fixtures/images.js";
import { hexOf, setup } from "./images-kit.js";

test("berth pull, images, inspecti, imagefsinfo, rmi", async (t) => {
  const { reg, d } = await setup(t);
  const bb = await pushBusybox(reg);
  const rich = await pushRichImage(reg);
  const berth = (...args: string[]) => runBerth([...args, "-r", d.socket]);

  const p = await berth("pull", bb.reference);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout, `Image is up to date for ${bb.configDigest}\n`);
  const short = hexOf(bb.layers[0]!.digest).slice(0, 12);
  assert.match(p.stderr, new RegExp(`^${short}: waiting \\(1\\.\\d+MB\\)$`, "m"), "plain progress lines when stderr is not a terminal");
  assert.match(p.stderr, new RegExp(`^${short}: done$`, "m"));
  assert.equal((await berth("pull", rich.reference)).code, 0);

  const images = await berth("images");
  assert.equal(images.code, 0, images.stderr);
  const lines = images.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
  assert.ok(lines.some((l) => new RegExp(`^${reg.host}/busybox\\s+latest\\s+${hexOf(bb.configDigest).slice(0, 13)}\\s+1\\.\\d+MB$`).test(l)), images.stdout);
  const digests = await berth("images", "--digests");
  assert.ok(digests.stdout.includes(hexOf(bb.manifestDigest).slice(0, 13)));
  const quiet = await berth("images", "-q");
  assert.deepEqual(quiet.stdout.trim().split("\n").sort(), [bb.configDigest, rich.configDigest].sort());
  const json = JSON.parse((await berth("images", "-o", "json")).stdout) as { images: { id: string; repoTags: string[] }[] };
  assert.equal(json.images.length, 2);
  assert.equal((await berth("images", `${reg.host}/busybox`)).stdout.trimEnd().split("\n").length, 2, "filter: header + one row");

  const inspect = JSON.parse((await berth("inspecti", rich.reference)).stdout) as { status: { id: string; username: string }; info: { info: { imageSpec: { config: { Cmd: string[] } } } } };
  assert.equal(inspect.status.id, rich.configDigest);
  assert.equal(inspect.status.username, "app");
  assert.deepEqual(inspect.info.info.imageSpec.config.Cmd, ["hello", "world"]);
  const missing = await berth("inspecti", "nothing:here");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such image: nothing:here/);

  const fsinfo = JSON.parse((await berth("imagefsinfo")).stdout) as { status: { imageFilesystems: { usedBytes: { value: string } }[] } };
  assert.ok(Number(fsinfo.status.imageFilesystems[0]!.usedBytes.value) > 1_000_000);

  const rmi = await berth("rmi", bb.reference);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.equal(rmi.stdout, `Deleted: ${reg.host}/busybox:latest\n`);
  const again = await berth("rmi", bb.reference);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no such image/);
  const all = await berth("rmi", "--all");
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout, `Deleted: ${reg.host}/rich:latest\n`);
  assert.equal((await berth("images", "-q")).stdout, "");
});

test("berth pull --creds and --auth send CRI credentials", async (t) => {
  const creds = { user: "cli", password: "pa:ss" };
  const { reg, d } = await setup(t, { basicAuth: creds });
  const bb = await pushBusybox(reg);
  const denied = await runBerth(["pull", bb.reference, "-r", d.socket]);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /HTTP 401|credentials/);
  const ok = await runBerth(["pull", "--creds", `${creds.user}:${creds.password}`, bb.reference, "-r", d.socket]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await runBerth(["rmi", bb.reference, "-r", d.socket])).code, 0);
  const auth = Buffer.from(`${creds.user}:${creds.password}`).toString("base64");
  const ok2 = await runBerth(["pull", "--auth", auth, bb.reference, "-r", d.socket]);
  assert.equal(ok2.code, 0, ok2.stderr);
});
