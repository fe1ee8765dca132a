// The container's command line, environment and working directory: the image config merged
// with the CRI config by Kubernetes' rules (command replaces ENTRYPOINT, args replaces CMD).
import { invalid } from "../../errors.js";
import type { KeyValue } from "../../generated/runtime/v1/api.js";
import { cleanAbs } from "./clean-path.js";
import type { ImageConfig } from "./input.js";

/** The PATH an image without one gets (the one containerd and runc's `spec` use). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Kubernetes' table (containerd's getProcessArgs):
 * | command | args | result                         |
 * | -       | -    | ENTRYPOINT + CMD               |
 * | set     | -    | command (CMD dropped)          |
 * | -       | set  | ENTRYPOINT + args              |
 * | set     | set  | command + args                 |
 * `ENTRYPOINT [""]` (Docker's way to clear it) counts as no entrypoint.
 */
export function processArgs(command: readonly string[], args: readonly string[], image: ImageConfig): string[] {
  let cmd = [...command];
  let rest = [...args];
  if (cmd.length === 0) {
    if (rest.length === 0) rest = [...(image.Cmd ?? [])];
    const ep = image.Entrypoint ?? [];
    cmd = ep.length === 1 && ep[0] === "" ? [] : [...ep];
  }
  const out = [...cmd, ...rest];
  if (out.length === 0) {
    throw invalid("no command specified: the container config has no command or args and the image has no ENTRYPOINT or CMD");
  }
  if (out.some((a) => a.includes("\0"))) throw invalid("command and args must not contain NUL");
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function envValue(kv: KeyValue): string {
  const v: unknown = kv.value;
  if (typeof v === "string") return v;
  try {
    return utf8.decode(kv.value);
  } catch {
    throw invalid(`envs[${JSON.stringify(kv.key)}]: the value is not valid UTF-8`);
  }
}

function keyOf(entry: string): string {
  const i = entry.indexOf("=");
  return i < 0 ? entry : entry.slice(0, i);
}

/**
 * PATH default, then HOSTNAME, then the image's Env, then the CRI envs; a later entry with the
 * same name replaces the earlier one in place (containerd's order). The default PATH only
 * survives when neither the image nor the CRI config sets PATH.
 */
export function mergeEnv(image: ImageConfig, envs: readonly KeyValue[], hostname: string): string[] {
  const order: string[] = [];
  const byKey = new Map<string, string>();
  const put = (entry: string): void => {
    const k = keyOf(entry);
    if (!byKey.has(k)) order.push(k);
    byKey.set(k, entry);
  };
  put(`PATH=${DEFAULT_PATH}`);
  put(`HOSTNAME=${hostname}`);
  for (const e of image.Env ?? []) {
    if (e === "" || e.startsWith("=") || e.includes("\0")) continue; // malformed image entries are dropped, not fatal
    put(e);
  }
  for (const kv of envs) {
    if (kv.key === "" || kv.key.includes("=") || kv.key.includes("\0")) {
      throw invalid(`envs: variable name ${JSON.stringify(kv.key)} must be non-empty and contain no "=" or NUL`);
    }
    const v = envValue(kv);
    if (v.includes("\0")) throw invalid(`envs[${kv.key}]: the value must not contain NUL`);
    put(`${kv.key}=${v}`);
  }
  return order.map((k) => byKey.get(k) ?? k);
}

/** CRI working_dir, else the image's WorkingDir, else "/"; it must be absolute. */
export function workingDir(criDir: string, image: ImageConfig): string {
  if (criDir !== "") return cleanAbs(criDir, "working_dir");
  if (image.WorkingDir) return cleanAbs(image.WorkingDir, "image config WorkingDir");
  return "/";
}
