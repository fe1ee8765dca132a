// Host dirs for the image's VOLUMEs that no CRI mount covers: one per volume under the
// container's data dir, seeded (owner, mode, content) from the image's dir as Docker does.
import { execFile } from "node:child_process";
import { chmod, chown, lstat, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { internal } from "../../errors.js";
import { resolveInRoot } from "./in-root.js";

function cpArchive(src: string, dst: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // One process per volume that has content (rare): cp -a keeps owners, modes, xattrs, links.
    execFile("cp", ["-a", "--", `${src}/.`, dst], { timeout: 120_000 }, (err, _o, stderr) => {
      if (err) reject(internal(`copying the image's volume content from ${src} failed: ${String(stderr).trim() || err.message}`, err));
      else resolve();
    });
  });
}

/** Makes `<volumesDir>/<n>` for each container path; returns container path → host dir. */
export async function makeImageVolumes(rootfs: string, volumesDir: string, paths: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (paths.length === 0) return out;
  await mkdir(volumesDir, { recursive: true, mode: 0o700 });
  for (const [i, p] of paths.entries()) {
    const host = join(volumesDir, String(i));
    await mkdir(host, { mode: 0o755 });
    const src = await resolveInRoot(rootfs, p);
    const st = src ? await lstat(src).catch(() => undefined) : undefined;
    if (src && st?.isDirectory()) {
      await chown(host, st.uid, st.gid);
      await chmod(host, st.mode & 0o7777);
      if ((await readdir(src)).length > 0) await cpArchive(src, host);
    }
    out[p] = host;
  }
  return out;
}
