// Parses an image config (OCI or Docker) into what Berth uses to create containers: user, env,
// entrypoint/cmd, workdir, stop signal, volumes, ports, labels, and the layers' diff_ids.
import { invalid } from "../../errors.js";
import { MAX_CONFIG_BYTES } from "./media-types.js";
import {
  keySet, object, optString, optStringArray, optStringMap, parseJson, sha256Digest, string,
} from "./json-shape.js";
import type { ImageManifest } from "./manifest.js";

export interface ContainerDefaults {
  user?: string;
  env: string[];
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  stopSignal?: string;
  /** Volume mount points ("/data"). */
  volumes: string[];
  /** "8080/tcp" style keys. */
  exposedPorts: string[];
  labels: Record<string, string>;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config: ContainerDefaults;
  /** rootfs.diff_ids: digests of the uncompressed layers, bottom first. */
  diffIds: string[];
}

export function parseImageConfig(bytes: Buffer, what = "image config"): ImageConfig {
  if (bytes.length > MAX_CONFIG_BYTES) throw invalid(`${what} is ${bytes.length} bytes; at most ${MAX_CONFIG_BYTES} are accepted`);
  const o = object(parseJson(bytes, what), what);
  const rootfs = object(o.rootfs, `${what}.rootfs`);
  if (rootfs.type !== "layers") throw invalid(`${what}.rootfs.type must be "layers"`);
  if (!Array.isArray(rootfs.diff_ids)) throw invalid(`${what}.rootfs.diff_ids must be an array`);
  const diffIds = rootfs.diff_ids.map((d, i) => sha256Digest(d, `${what}.rootfs.diff_ids[${i}]`));
  const c = o.config === undefined || o.config === null ? {} : object(o.config, `${what}.config`);
  const w = `${what}.config`;
  const defaults: ContainerDefaults = {
    env: optStringArray(c.Env, `${w}.Env`) ?? [],
    volumes: keySet(c.Volumes, `${w}.Volumes`),
    exposedPorts: keySet(c.ExposedPorts, `${w}.ExposedPorts`),
    labels: optStringMap(c.Labels, `${w}.Labels`) ?? {},
  };
  const user = optString(c.User, `${w}.User`);
  if (user) defaults.user = user;
  const entrypoint = optStringArray(c.Entrypoint, `${w}.Entrypoint`);
  if (entrypoint) defaults.entrypoint = entrypoint;
  const cmd = optStringArray(c.Cmd, `${w}.Cmd`);
  if (cmd) defaults.cmd = cmd;
  const workingDir = optString(c.WorkingDir, `${w}.WorkingDir`);
  if (workingDir) defaults.workingDir = workingDir;
  const stopSignal = optString(c.StopSignal, `${w}.StopSignal`);
  if (stopSignal) defaults.stopSignal = stopSignal;
  const cfg: ImageConfig = {
    architecture: string(o.architecture ?? "", `${what}.architecture`),
    os: string(o.os ?? "", `${what}.os`),
    config: defaults,
    diffIds,
  };
  const variant = optString(o.variant, `${what}.variant`);
  if (variant) cfg.variant = variant;
  const created = optString(o.created, `${what}.created`);
  if (created) cfg.created = created;
  return cfg;
}

/** Throws unless the config lists one diff_id per manifest layer (a mismatch means a broken or forged image). */
export function checkConfigMatchesManifest(config: ImageConfig, manifest: ImageManifest, what = "image"): void {
  if (config.diffIds.length !== manifest.layers.length) {
    throw invalid(
      `${what}: config lists ${config.diffIds.length} diff_ids but the manifest has ${manifest.layers.length} layers`,
    );
  }
}
