// CreateContainer: the rootfs (overlay of the image's layers + a writable upper dir), the user
// from the image's account files, the OCI spec and bundle, then runc create under conmon.
import { mkdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, normalize } from "node:path";
import { BerthError, Code, failedPrecondition, internal, invalid } from "../errors.js";
import { ContainerConfig, LinuxContainerResources, NamespaceMode, type CreateContainerRequest } from "../generated/runtime/v1/api.js";
import { newId } from "../util/ids.js";
import { podFilePaths } from "../pods/files.js";
import type { Pod } from "../pods/record.js";
import { writeFileAtomic } from "../util/durable.js";
import { logger } from "../util/log.js";
import { stepTimer } from "../util/step-timer.js";
import { conmonLeafName, containerCgroup } from "./cgroup-path.js";
import type { ContainerContext, ResolvedImage } from "./context.js";
import { lookupDevice } from "./host/devices.js";
import { resolveImageVolumes, type ImageVolumeUse } from "./image-volumes.js";
import { readRegularFile } from "./host/regular-file.js";
import { specOptions } from "./host/facts.js";
import { propagationLookup } from "./host/propagation.js";
import { isVisible, nowNs, type Container, type ContainerRecord } from "./record.js";
import { readFileInRoot } from "./rootfs/in-root.js";
import { detachAll, hostRoot, idmapBindSources, mountIdmappedOverlay, openBundleForUserns } from "./rootfs/idmapped.js";
import { mountOverlay } from "./rootfs/overlay.js";
import { makeImageVolumes } from "./rootfs/volumes.js";
import {
  buildSpec, checkRunAsGroup, imageVolumePaths, localhostProfilePath, localhostWhere, MAX_ACCOUNT_FILE, MAX_SECCOMP_PROFILE_BYTES, resolveUser, userRequestFrom, type PodNamespacePaths,
} from "./spec/index.js";
import { isKnownCriSignal } from "./signals.js";
import { releaseContainer } from "./teardown.js";
import { resolveCdi } from "./cdi/registry.js";

const log = logger("containers");

function checkRequest(req: CreateContainerRequest): ContainerConfig {
  const config = req.config;
  if (!req.podSandboxId) throw invalid("CreateContainer: pod_sandbox_id is empty; give the ID of a ready pod sandbox");
  if (!config) throw invalid("CreateContainer: config is required");
  const name = config.metadata?.name ?? "";
  if (name === "") throw invalid("CreateContainer: config.metadata.name is required");
  if (name.length > 253 || /[\0-\x1f/]/.test(name)) throw invalid(`config.metadata.name ${JSON.stringify(name)} must be at most 253 characters without "/" or control characters`);
  if (!config.image?.image) throw invalid(`container "${name}": config.image.image is required (an image ID, tag or digest)`);
  checkRunAsGroup(config.linux?.securityContext, `container "${name}": linux.security_context`);
  if (!isKnownCriSignal(config.stopSignal)) throw invalid(`container "${name}": stop_signal ${config.stopSignal} is not a CRI Signal value (0 RUNTIME_DEFAULT to 65 SIGRTMAX)`);
  // The log file lives under the pod's log_directory: a relative path that stays inside it.
  const logPath = config.logPath;
  if (logPath && (isAbsolute(logPath) || normalize(logPath).split("/").includes("..") || logPath.includes("\0"))) {
    throw invalid(`container "${name}": log_path ${JSON.stringify(logPath)} must be relative to the pod's log_directory and stay inside it (kubelet sends "<name>/<restart>.log")`);
  }
  return config;
}

/** The same name and attempt in one pod is one container (containerd reserves the name). */
function checkName(ctx: ContainerContext, pod: Pod, config: ContainerConfig, key: string): void {
  const m = config.metadata!;
  if (ctx.creating.has(key)) {
    throw new BerthError(Code.ALREADY_EXISTS, `container "${m.name}" (attempt ${m.attempt}) is being created in pod sandbox "${pod.rec.id}" by another call`);
  }
  for (const c of ctx.ofPod(pod.rec.id)) {
    const o = c.config.metadata;
    if (isVisible(c) && o?.name === m.name && o.attempt === m.attempt) {
      throw new BerthError(Code.ALREADY_EXISTS, `container "${m.name}" (attempt ${m.attempt}) already exists in pod sandbox "${pod.rec.id}" as ${c.rec.id}; remove it first`);
    }
  }
}

function namespacePaths(pod: Pod): PodNamespacePaths {
  const { net, ipc, uts, pid, user } = pod.rec.pins;
  return { ...(net ? { net } : {}), ...(ipc ? { ipc } : {}), ...(uts ? { uts } : {}), ...(pid && pod.rec.ns.pid === "pod" ? { pid } : {}), ...(user ? { user } : {}) };
}

function targetPidNamespace(ctx: ContainerContext, config: ContainerConfig, podId: string): string | undefined {
  const opts = config.linux?.securityContext?.namespaceOptions;
  if (opts?.pid !== NamespaceMode.TARGET) return undefined;
  const target = ctx.find(opts.targetId);
  if (!target || target.rec.podId !== podId) throw invalid(`namespace_options.target_id ${JSON.stringify(opts.targetId)} is not a container of pod sandbox "${podId}"`);
  if (!target.rec.process || target.rec.phase === "exited") throw failedPrecondition(`target container "${target.rec.id}" is not running: its PID namespace cannot be joined`);
  return `/proc/${target.rec.process.pid}/ns/pid`;
}

/** Host paths of CRI mounts must exist; a missing one becomes a directory, as containerd does. */
async function ensureHostPaths(config: ContainerConfig): Promise<void> {
  for (const m of config.mounts) {
    if (!m.hostPath.startsWith("/")) continue; // the spec builder names the field
    try {
      await stat(m.hostPath);
    } catch {
      await mkdir(m.hostPath, { recursive: true, mode: 0o755 });
    }
  }
}

function plan(ctx: ContainerContext, pod: Pod, config: ContainerConfig, image: ResolvedImage): Container {
  const id = newId((x) => ctx.containers.has(x));
  const { bundles, data } = ctx.deps.dirs;
  const cg = containerCgroup(pod.rec.cgroup, id);
  const logDir = pod.config.logDirectory;
  const rec: ContainerRecord = {
    v: 1,
    id,
    podId: pod.rec.id,
    phase: "creating",
    createdAt: nowNs().toString(),
    startedAt: "0",
    finishedAt: "0",
    exitCode: 0,
    reason: "",
    message: "",
    config: ContainerConfig.toJSON(config),
    resources: config.linux?.resources ? LinuxContainerResources.toJSON(config.linux.resources) : null,
    image: { name: config.image!.image, id: image.id, digestedRef: image.digestedRef, chainIds: image.chainIds, ...(image.config.StopSignal ? { stopSignal: image.config.StopSignal } : {}) },
    paths: { bundle: join(bundles, id), dir: join(data, id) },
    mounted: false,
    logPath: logDir && config.logPath ? join(logDir, config.logPath) : "",
    cgroupsPath: cg.cgroupsPath,
    cgroupPath: cg.path,
    user: { uid: 0, gid: 0, additionalGids: [] },
  };
  return { rec, config, resources: config.linux?.resources };
}

/** Whether the pod's runtime handler takes `rro` mounts (probed at start); the host facts' for a pod from before handlers. */
function handlerRro(ctx: ContainerContext, pod: Pod): boolean {
  const h = ctx.deps.handlers.get(pod.rec.runtimeHandler);
  return h ? h.features.recursiveReadOnlyMounts : ctx.deps.facts.recursiveReadOnlyMounts;
}

/** runc's error when its init could not exec the command (not found, not executable), not any other failure. */
function isExecFailure(err: unknown): boolean {
  return err instanceof Error && /unable to start container process: exec: /.test(err.message);
}

/** The caller of CreateContainer: gone once its deadline passed or it cancelled. */
export interface CreateCaller {
  gone(): boolean;
  /** Aborted at the caller's deadline or cancel: a runtime (conmon, runc) still at work is killed and the create undone. */
  signal?: AbortSignal;
}

/** A container made for this pod, name and attempt after its caller had gone, still never started. */
function unclaimedFor(ctx: ContainerContext, pod: Pod, config: ContainerConfig): Container | undefined {
  const m = config.metadata!;
  for (const id of ctx.unclaimed) {
    const c = ctx.containers.get(id);
    const o = c?.config.metadata;
    if (c && c.rec.podId === pod.rec.id && c.rec.phase === "created" && o?.name === m.name && o.attempt === m.attempt) return c;
  }
  return undefined;
}

export async function createContainer(ctx: ContainerContext, req: CreateContainerRequest, caller?: CreateCaller): Promise<string> {
  const config = checkRequest(req);
  const pod = ctx.deps.pods.get(req.podSandboxId);
  if (pod.rec.phase !== "ready") throw failedPrecondition(`pod sandbox "${pod.rec.id}" is not ready (${pod.rec.reason ?? pod.rec.phase}); containers can only be created in a ready pod`);
  const key = JSON.stringify([pod.rec.id, config.metadata!.name, config.metadata!.attempt]);
  // kubelet retries a CreateContainer that passed its deadline with the same name and attempt: it gets
  // the container that call made (CRI-O does the same), not "already exists" for a name it cannot free.
  const orphan = unclaimedFor(ctx, pod, config);
  if (orphan) {
    ctx.unclaimed.delete(orphan.rec.id);
    log.info({ id: orphan.rec.id, pod: pod.rec.id }, "CreateContainer retry gets the container made after the first call's caller had gone");
    return orphan.rec.id;
  }
  checkName(ctx, pod, config, key);
  ctx.creating.add(key);
  try {
    const id = await makeContainer(ctx, pod, config, caller?.signal);
    if (caller?.gone()) ctx.unclaimed.add(id);
    return id;
  } catch (err) {
    // StopPodSandbox/RemovePodSandbox ran meanwhile (its pins go, so runc fails obscurely): say so.
    if (!podReady(ctx, pod.rec.id)) {
      throw failedPrecondition(`pod sandbox "${pod.rec.id}" was stopped or removed while container "${config.metadata!.name}" was being created; create it in a ready pod`);
    }
    throw err;
  } finally {
    ctx.creating.delete(key);
  }
}

function podReady(ctx: ContainerContext, podId: string): boolean {
  return ctx.deps.pods.find(podId)?.rec.phase === "ready";
}

/** Everything after the checks: plan, rootfs, spec, bundle, runc create; undone on any failure. */
async function makeContainer(ctx: ContainerContext, pod: Pod, config: ContainerConfig, signal: AbortSignal | undefined): Promise<string> {
  await ctx.deps.handlersReady(pod.rec.runtimeHandler); // the handler's features (rro) come from its start-up probe
  const image = await ctx.deps.images.resolve(config.image!.image, config.image!.userSpecifiedImage);
  const target = targetPidNamespace(ctx, config, pod.rec.id);
  const profile = await readLocalhostProfile(config);
  const volumes = resolveImageVolumes(ctx.deps.images, config.mounts);
  const c = plan(ctx, pod, config, image);
  if (volumes.length > 0) c.rec.imageVolumes = volumes;
  // Held until the container is made or undone: a pod's Stop/Remove (which lock each container) waits for it.
  return ctx.locks.run(c.rec.id, () => build(ctx, pod, config, image, target, c, profile, signal));
}

/** A seccomp Localhost profile the request names, read before anything is made (checked, async). */
async function readLocalhostProfile(config: ContainerConfig): Promise<{ path: string; text: string } | undefined> {
  const sc = config.linux?.securityContext;
  const path = localhostProfilePath({ profile: sc?.seccomp, deprecatedPath: sc?.seccompProfilePath ?? "", privileged: sc?.privileged ?? false });
  if (path === undefined) return undefined;
  return { path, text: await readRegularFile(path, MAX_SECCOMP_PROFILE_BYTES, localhostWhere(path)) };
}

async function build(ctx: ContainerContext, pod: Pod, config: ContainerConfig, image: ResolvedImage, target: string | undefined, c: Container,
  profile: { path: string; text: string } | undefined, signal: AbortSignal | undefined): Promise<string> {
  const timer = stepTimer();
  const { rec } = c;
  // Saved first: the layers are now in use (image GC keeps them) and a crash leaves a record to clean up.
  ctx.save(c);
  await using undo = new AsyncDisposableStack();
  undo.defer(() => releaseFailed(ctx, c));
  const placing = startConmonPlacement(ctx, pod, rec, undo);
  timer.step("conmon_cgroup", () => placing).catch(() => undefined);
  const rootfs = await timer.step("rootfs", () => mountRootfs(ctx, pod, c, image));
  const specConfig = rec.imageVolumes ? await timer.step("image_volumes", () => withImageVolumes(ctx, config, rec.imageVolumes!)) : config;
  const copies = await timer.step("spec", () => writeSpec(ctx, pod, specConfig, image, target, rec, rootfs, profile));
  try {
    rec.process = await timer.step("runc_create", () => runcCreate(ctx, pod, config, rec, placing, signal));
  } finally {
    // runc bound them into the container's mount namespace: the host needs them no longer.
    detachAll(copies);
  }
  // The pod went away while this ran (its Stop/Remove did not see a container yet): undo, not a leak.
  if (!podReady(ctx, pod.rec.id)) throw failedPrecondition(`pod sandbox "${pod.rec.id}" was stopped or removed while container "${config.metadata!.name}" was being created`);
  rec.phase = "created";
  timer.stepSync("store_created", () => ctx.save(c));
  undo.move();
  log.debug({ id: rec.id, pod: pod.rec.id, ms: timer.done(), at: timer.spans() }, "container created");
  return rec.id;
}

/** The undo of a failed create: release what was made and forget the record. */
async function releaseFailed(ctx: ContainerContext, c: Container): Promise<void> {
  try {
    await releaseContainer(ctx, c);
    ctx.drop(c);
  } catch (err) {
    // Kept hidden in "creating": the next start cleans it up.
    log.error({ id: c.rec.id, err: (err as Error).message }, "cleanup after a failed CreateContainer failed; will retry at start");
  }
}

type Placing = ReturnType<ContainerContext["deps"]["cgroups"]["placement"]> | Promise<undefined>;

/**
 * conmon's cgroup leaf (cgroupfs) is made while the rootfs is mounted and the spec built (~2 ms off
 * the path). Awaited before conmon starts; settled before any undo runs.
 */
function startConmonPlacement(ctx: ContainerContext, pod: Pod, rec: ContainerRecord, undo: AsyncDisposableStack): Placing {
  if (ctx.deps.cgroups.name === "cgroupfs") rec.conmonLeaf = join(pod.rec.cgroup.path, conmonLeafName(rec.id));
  const placing = rec.conmonLeaf ? ctx.deps.cgroups.placement(pod.rec.cgroup, conmonLeafName(rec.id)) : Promise.resolve(undefined);
  placing.catch(() => undefined);
  undo.defer(async () => void (await placing.catch(() => undefined)));
  return placing;
}

/** The config the spec is built from: each image mount a read-only bind of its mounted image (or sub path). */
async function withImageVolumes(ctx: ContainerContext, config: ContainerConfig, uses: ImageVolumeUse[]): Promise<ContainerConfig> {
  return { ...config, mounts: await ctx.imageVolumes.acquire(config.mounts, uses) };
}

/** The overlay of the image's layers and a writable upper dir, mounted on <bundle>/rootfs. */
async function mountRootfs(ctx: ContainerContext, pod: Pod, c: Container, image: ResolvedImage): Promise<string> {
  const { rec } = c;
  const rootfs = join(rec.paths.bundle, "rootfs");
  const upper = join(rec.paths.dir, "upper");
  const work = join(rec.paths.dir, "work");
  await Promise.all([
    // upper is the container's "/" (overlay's root takes its mode), so 0755; its parent is 0700.
    mkdir(rec.paths.dir, { recursive: true, mode: 0o700 }).then(() => Promise.all([mkdir(upper, { mode: 0o755 }), mkdir(work, { mode: 0o700 })])),
    // Owner-only up to the mount point: a host user must not walk into a container's rootfs,
    // whose setuid files and device nodes overlayfs shows without nosuid/nodev.
    mkdir(rootfs, { recursive: true, mode: 0o700 }),
  ]);
  const lowers = ctx.deps.images.lowerDirs(image.chainIds);
  if (lowers.length === 0) {
    // An image without layers: overlay still needs one lower dir.
    lowers.push(join(rec.paths.dir, "empty"));
    await mkdir(lowers[0]!, { mode: 0o755 });
  }
  rec.mounted = true;
  ctx.save(c);
  const overlay = { layersDir: ctx.deps.images.layersDir, lowers, upper, work, target: rootfs };
  const userns = pod.rec.pins.user;
  if (userns) {
    const maps = pod.config.linux?.securityContext?.namespaceOptions?.usernsOptions;
    const root = { uid: hostRoot(maps?.uids ?? [], "uid"), gid: hostRoot(maps?.gids ?? [], "gid") };
    await openBundleForUserns(rec.paths.bundle, root.uid, root.gid);
    await mountIdmappedOverlay(overlay, rec.paths.dir, userns, root);
  } else {
    await mountOverlay(overlay);
  }
  return rootfs;
}

/** What the spec needs from the mounted rootfs and the pod, read at once; CRI mounts' host paths made meanwhile. */
async function specInputs(pod: Pod, config: ContainerConfig, image: ResolvedImage, rec: ContainerRecord, rootfs: string) {
  const passwd = readFileInRoot(rootfs, "/etc/passwd", MAX_ACCOUNT_FILE);
  const group = readFileInRoot(rootfs, "/etc/group", MAX_ACCOUNT_FILE);
  const hostname = readFile(podFilePaths(pod.rec.dir).hostname, "utf8").then((s) => s.trim(), () => "");
  const imageVolumes = makeImageVolumes(rootfs, join(rec.paths.dir, "volumes"), imageVolumePaths(image.config, config.mounts));
  const hostPaths = ensureHostPaths(config);
  await Promise.all([passwd, group, hostname, imageVolumes, hostPaths]);
  return { passwd: (await passwd) ?? "", group: (await group) ?? "", hostname: await hostname, imageVolumes: await imageVolumes };
}

/** The user resolved against the image's account files, the OCI spec, written as <bundle>/config.json. */
async function writeSpec(ctx: ContainerContext, pod: Pod, config: ContainerConfig, image: ResolvedImage, target: string | undefined, rec: ContainerRecord, rootfs: string,
  profile: { path: string; text: string } | undefined): Promise<string[]> {
  const { passwd, group, hostname, imageVolumes } = await specInputs(pod, config, image, rec, rootfs);
  const user = resolveUser(userRequestFrom(config, image.config), passwd, group);
  rec.user = { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
  const privileged = config.linux?.securityContext?.privileged ?? false;
  const spec = buildSpec({
    containerId: rec.id,
    sandboxId: pod.rec.id,
    config,
    sandboxConfig: pod.config,
    image: image.config,
    imageName: config.image!.image,
    rootfs,
    namespaces: namespacePaths(pod),
    ...(target ? { targetPidNamespace: target } : {}),
    podFiles: { ...podFilePaths(pod.rec.dir), shm: pod.rec.shm.path },
    hostname,
    cgroupsPath: rec.cgroupsPath,
    user,
    imageVolumes,
    lookupDevice,
    cdi: await resolveCdi(ctx.deps.cdi, config),
    lookupPropagation: propagationLookup(),
    readProfile: (p) => {
      if (p !== profile?.path) throw internal(`seccomp profile ${p} was not read before the spec was built`);
      return profile.text;
    },
    options: { ...specOptions(ctx.deps.facts, privileged), recursiveReadOnlyMounts: handlerRro(ctx, pod), userNamespaces: pod.rec.pins.user !== undefined },
  });
  const userns = pod.rec.pins.user;
  const copies = userns && spec.mounts ? await idmapBindSources(spec.mounts, rec.paths.bundle, userns) : [];
  try {
    await writeFileAtomic(join(rec.paths.bundle, "config.json"), JSON.stringify(spec), { mode: 0o600, fsync: true });
  } catch (err) {
    detachAll(copies);
    throw err;
  }
  return copies;
}

/** runc create under conmon, conmon placed in its leaf before it starts anything. */
async function runcCreate(ctx: ContainerContext, pod: Pod, config: ContainerConfig, rec: ContainerRecord, placing: Placing, signal: AbortSignal | undefined): Promise<ContainerRecord["process"]> {
  const placement = await placing;
  signal?.throwIfAborted();
  try {
    return await ctx.deps.oci.create({
      id: rec.id,
      bundleDir: rec.paths.bundle,
      logPath: rec.logPath || undefined,
      tty: config.tty,
      stdin: config.stdin,
      stdinOnce: config.stdinOnce,
      persistDir: rec.paths.dir,
      timeoutMs: ctx.deps.createTimeoutMs,
      placeConmon: placement ? (pid) => placement.adopt([pid]) : undefined,
      handler: pod.rec.runtimeHandler || undefined,
      signal,
    });
  } catch (err) {
    // runc 1.1 looks the command up during `runc create`; containerd only runs it at StartContainer,
    // so a missing command is a StartError there (a Job then fails instead of retrying create forever).
    if (!isExecFailure(err)) throw err;
    rec.startError = (err as Error).message;
    log.debug({ id: rec.id, err: rec.startError }, "the command cannot be executed: StartContainer will fail with StartError");
    return undefined;
  }
}
