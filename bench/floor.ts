// The bare OS floor of a pod start, done by hand with the tools Berth uses (one unshare pinning
// net/ipc/uts, CNI ADD of the same conflist, overlay mount of the same layers, runc create+start).
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mountOverlay, unmountOverlay } from "../src/containers/rootfs/overlay.js";
import { CniNetwork } from "../src/network/cni/network.js";
import { pinNamespaces, unpinNamespaces } from "../src/pods/namespaces.js";

/** One round's step times (ms); each CRI call's floor is a sum of steps. */
export interface FloorRound {
  pin: number;
  cni_add: number;
  overlay: number;
  runc_create: number;
  runc_start: number;
  /** performance.now() when runc start returned. */
  startedAt: number;
}

export const floorRunPod = (r: FloorRound): number => r.pin + r.cni_add;
export const floorCreate = (r: FloorRound): number => r.overlay + r.runc_create;
export const floorStart = (r: FloorRound): number => r.runc_start;
export const floorTotal = (r: FloorRound): number => floorRunPod(r) + floorCreate(r) + floorStart(r);

function runc(root: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // All stdio ignored: runc create hands its stdio to the container, so a pipe would stay open.
    const p = spawn("runc", [`--root=${root}`, ...args], { stdio: "ignore" });
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`runc ${args.join(" ")} exited ${code}`))));
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

export interface FloorOptions {
  /** The CNI config dir the runtime uses (same conflist, same IPAM). */
  confDir: string;
  /** A config.json the runtime wrote for a container of this shape (paths are replaced per round). */
  spec: Record<string, unknown>;
  /** The image's layer dirs, topmost first, and the layer store they live in. */
  lowers: string[];
  layersDir: string;
  /** Runc's cgroups go under <cgroupParent>/floor/. */
  cgroupParent: string;
}

export class Floor {
  private readonly runcRoot: string;
  private readonly net: CniNetwork;
  private n = 0;

  private constructor(private readonly work: string, private readonly o: FloorOptions) {
    this.runcRoot = join(work, "runc");
    this.net = new CniNetwork({ confDirs: [o.confDir], binDirs: ["/usr/lib/cni"], cacheDir: join(work, "cni-cache") });
  }

  static async open(o: FloorOptions): Promise<Floor> {
    return new Floor(await mkdtemp(join(tmpdir(), "berth-floor-")), o);
  }

  /** One pod with one started container, each step timed (`started` told when it is); then, once `hold` settles, everything undone (not timed). */
  async round(hold?: Promise<unknown>, started?: (at: number) => void): Promise<FloorRound> {
    const id = `floor${this.n++}${Math.random().toString(16).slice(2, 10)}`;
    const bundle = join(this.work, id);
    const rootfs = join(bundle, "rootfs");
    await Promise.all([mkdir(rootfs, { recursive: true }), mkdir(join(bundle, "upper"), { recursive: true }), mkdir(join(bundle, "work"), { recursive: true })]);
    const ref = { id, name: id, namespace: "bench", uid: id };
    const r: FloorRound = { pin: 0, cni_add: 0, overlay: 0, runc_create: 0, runc_start: 0, startedAt: 0 };
    const [pinMs, pins] = await timed(() => pinNamespaces(join(this.work, "ns"), id, { net: true, ipc: true, uts: true }, { hostname: "floor" }));
    r.pin = pinMs;
    let mounted = false;
    let created = false;
    try {
      [r.cni_add] = await timed(() => this.net.setUp({ ...ref, netns: pins.net!, ports: [], annotations: {} }));
      [r.overlay] = await timed(() => mountOverlay({ layersDir: this.o.layersDir, lowers: this.o.lowers, upper: join(bundle, "upper"), work: join(bundle, "work"), target: rootfs }));
      mounted = true;
      const s = structuredClone(this.o.spec) as { root: { path: string }; linux: { cgroupsPath: string; namespaces: Array<{ type: string; path?: string }> } };
      s.root.path = rootfs;
      s.linux.cgroupsPath = `${this.o.cgroupParent}/floor/${id}`;
      for (const n of s.linux.namespaces) {
        if (n.type === "network") n.path = pins.net!;
        if (n.type === "ipc") n.path = pins.ipc!;
        if (n.type === "uts") n.path = pins.uts!;
      }
      await writeFile(join(bundle, "config.json"), JSON.stringify(s));
      [r.runc_create] = await timed(() => runc(this.runcRoot, ["create", "--bundle", bundle, id]));
      created = true;
      [r.runc_start] = await timed(() => runc(this.runcRoot, ["start", id]));
      r.startedAt = performance.now();
      started?.(r.startedAt);
      return r;
    } finally {
      await hold?.catch(() => undefined);
      if (created) await runc(this.runcRoot, ["delete", "--force", id]);
      if (mounted) await unmountOverlay(rootfs);
      await this.net.tearDown({ ...ref, netns: pins.net! });
      await unpinNamespaces(pins);
      await rm(bundle, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
    for (const h of await readdir("/sys/fs/cgroup")) await rmdir(join("/sys/fs/cgroup", h, this.o.cgroupParent, "floor")).catch(() => undefined);
  }
}
