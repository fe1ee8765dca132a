// Files CreateContainer reads that are not regular files: an image whose /etc/passwd or
// /etc/group is a FIFO or a device node, a seccomp Localhost profile that is a FIFO or too big.
// Each is refused by its type and size before it is opened, and the failed create leaves nothing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import { lstat, mkdtemp, open, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ServiceError } from "@grpc/grpc-js";
import { status as code } from "@grpc/grpc-js";
import { SecurityProfile_ProfileType } from "../../src/generated/runtime/v1/api.js";
import { pushImage, type PushedImage } from "../fixtures/images.js";
import { busyboxLayer } from "../fixtures/layers.js";
import { removePod } from "./pods-kit.js";
import { createCtr, ctrConfig, ctrEnv, listCtrs, runPodWithLogs, sharedRegistry, type CtrEnv, type Registry } from "./containers-kit.js";

let r: Registry & { stop(): Promise<void> };
let fifoPasswd: PushedImage;
let deviceGroup: PushedImage;
before(async () => {
  r = await sharedRegistry();
  fifoPasswd = await pushImage(r.reg, {
    repo: "fifo-passwd", tag: "v1", config: { Cmd: ["sh"] },
    layers: [busyboxLayer(), { entries: [{ type: "fifo", path: "etc/passwd", mode: 0o644 }] }],
  });
  // /etc/group a symlink to a character device (1:3, the null device: harmless if it were opened).
  deviceGroup = await pushImage(r.reg, {
    repo: "device-group", tag: "v1", config: { Cmd: ["sh"] },
    layers: [busyboxLayer(), { entries: [
      { type: "char", path: "dev/wd", major: 1, minor: 3, mode: 0o600 },
      { type: "symlink", path: "etc/group", target: "/dev/wd" },
    ] }],
  });
});
after(async () => {
  await r.stop();
});

const invalidNaming = (re: RegExp) => (e: ServiceError): boolean => {
  assert.equal(e.code, code.INVALID_ARGUMENT, e.details);
  assert.match(e.details, re);
  return true;
};

/** The failed create left no container, mount, file or process behind. */
async function assertNothingLeft(env: CtrEnv, podId: string): Promise<void> {
  assert.deepEqual((await listCtrs(env.d, { podSandboxId: podId })).map((c) => c.id), []);
  await removePod(env.d, podId);
  await env.leaks.assertNoLeaks();
}

/** The FIFO an image layer holds at `path`, in the daemon's layer store. */
async function layerFifo(env: CtrEnv, path: string): Promise<string> {
  const layers = join(env.d.root, "layers");
  for (const id of await readdir(layers)) {
    const p = join(layers, id, "diff", path);
    if ((await lstat(p).catch(() => undefined))?.isFIFO()) return p;
  }
  throw new Error(`no layer holds a FIFO at ${path}`);
}

test("an image whose /etc/passwd is a FIFO: CreateContainer is InvalidArgument naming it, and the FIFO is never opened", async (t) => {
  const env = await ctrEnv(t, r, { pull: [fifoPasswd.reference] });
  const podId = await runPodWithLogs(env);
  // A writer's open completes only once someone opens the FIFO for reading (as opening a
  // watchdog device node would act on the host): it tells whether the daemon opened it.
  const fifo = await layerFifo(env, "etc/passwd");
  let opened = false;
  const writer = open(fifo, constants.O_WRONLY).then(async (fh) => {
    opened = true;
    await fh.close();
  });
  await assert.rejects(createCtr(env, podId, ctrConfig(env, { image: { image: fifoPasswd.reference } as never })),
    invalidNaming(/\/etc\/passwd in the image is a FIFO, not a regular file/));
  assert.equal(opened, false, "the daemon did not open the FIFO");
  const release = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK); // lets the test's writer go
  await writer;
  await release.close();
  await assertNothingLeft(env, podId);
});

test("an image whose /etc/group is a symlink to a device node: InvalidArgument naming it", async (t) => {
  const env = await ctrEnv(t, r, { pull: [deviceGroup.reference] });
  const podId = await runPodWithLogs(env);
  await assert.rejects(createCtr(env, podId, ctrConfig(env, { image: { image: deviceGroup.reference } as never })),
    invalidNaming(/\/etc\/group in the image is a character device, not a regular file/));
  await assertNothingLeft(env, podId);
});

test("a seccomp Localhost profile that is a FIFO or larger than 1 MiB: InvalidArgument naming the file", async (t) => {
  const env = await ctrEnv(t, r);
  const dir = await mkdtemp(join(tmpdir(), "berth-seccomp-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fifo = join(dir, "profile.fifo");
  execFileSync("mkfifo", [fifo]);
  const big = join(dir, "big.json");
  const bigText = `{"defaultAction": "SCMP_ACT_ALLOW"${" ".repeat(1 << 20)}}`; // valid, but too big
  await writeFile(big, bigText);
  const podId = await runPodWithLogs(env);
  const localhost = (path: string) => ({ linux: { securityContext: { seccomp: { profileType: SecurityProfile_ProfileType.Localhost, localhostRef: path } } } as never });
  // Without the check, reading a FIFO blocks the daemon's event loop for good.
  await assert.rejects(createCtr(env, podId, ctrConfig(env, localhost(fifo))),
    invalidNaming(new RegExp(`seccomp localhost "${fifo}": ${fifo} is a FIFO, not a regular file`)));
  await assert.rejects(createCtr(env, podId, ctrConfig(env, localhost(big))),
    invalidNaming(new RegExp(`seccomp localhost "${big}": ${big} is ${Buffer.byteLength(bigText)} bytes; at most 1048576 are read`)));
  await assertNothingLeft(env, podId);
});
