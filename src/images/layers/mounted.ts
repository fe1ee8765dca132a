// Which layer directories an overlay mount is using right now, read from /proc/self/mountinfo:
// GC's safety net, so a layer under a container's rootfs survives even if no one said so.
import { readFile } from "node:fs/promises";

/** Layer ids (the <id> of <layers>/<id>/diff) named in any overlay mount's lowerdir/upperdir. */
export async function mountedLayerIds(mountinfo = "/proc/self/mountinfo"): Promise<Set<string>> {
  const ids = new Set<string>();
  let text: string;
  try {
    text = await readFile(mountinfo, "utf8");
  } catch {
    return ids;
  }
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const [fstype, , superOptions = ""] = line.slice(sep + 3).split(" ");
    if (fstype !== "overlay") continue;
    for (const opt of superOptions.split(",")) {
      const eq = opt.indexOf("=");
      const key = opt.slice(0, eq);
      if (key !== "lowerdir" && key !== "upperdir") continue;
      // Relative paths ("<id>/diff", mounted from the layers dir) and absolute ones alike.
      for (const dir of opt.slice(eq + 1).split(":")) {
        const m = /(?:^|\/)([0-9a-f]{12})\/diff\/?$/.exec(dir.replace(/\\040/g, " "));
        if (m?.[1]) ids.add(m[1]);
      }
    }
  }
  return ids;
}
