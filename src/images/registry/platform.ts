// Picks the manifest for this host from an OCI index or Docker manifest list, the way
// containerd's platform matcher does: exact os/arch/variant first, then compatible variants.
import { endianness } from "node:os";
import { BerthError, Code } from "../../errors.js";
import { MANIFEST_TYPES } from "./media-types.js";
import type { Descriptor, ImageIndex } from "./manifest.js";
import type { Platform } from "./platform-type.js";

export type { Platform };

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: "amd64" }, "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" }, armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" }, i386: { architecture: "386" }, i686: { architecture: "386" },
};

/** The platform of this process (Node's process.arch in OCI terms); Berth only runs Linux images. */
export function hostPlatform(arch: string = process.arch): Platform {
  switch (arch) {
    case "x64": return { os: "linux", architecture: "amd64" };
    case "arm64": return { os: "linux", architecture: "arm64", variant: "v8" };
    case "arm": return { os: "linux", architecture: "arm", variant: "v7" };
    case "ia32": return { os: "linux", architecture: "386" };
    case "ppc64": return { os: "linux", architecture: endianness() === "LE" ? "ppc64le" : "ppc64" };
    default: return { os: "linux", architecture: arch };
  }
}

/** Lowercases and applies the aliases and default variants containerd uses (arm64 → v8, arm → v7). */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant = variant ?? alias.variant;
  }
  if (architecture === "arm64" && (variant === undefined || variant === "" || variant === "8")) variant = "v8";
  if (architecture === "arm" && (variant === undefined || variant === "")) variant = "v7";
  if (architecture === "arm" && variant && /^[5-8]$/.test(variant)) variant = `v${variant}`;
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  const out: Platform = { os, architecture };
  if (variant) out.variant = variant;
  return out;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/**
 * How well `offered` serves a host that wants `want`: 0 = not at all, higher is better.
 * Exact variant 4, an older arm variant 3 (v7 hosts run v6/v5), any other variant 2.
 * An entry without a platform still matches (containerd accepts them) but ranks last (1).
 */
function score(want: Platform, offered: Platform | undefined): number {
  if (!offered) return 1;
  const w = normalizePlatform(want);
  const o = normalizePlatform(offered);
  if (w.os !== o.os || w.architecture !== o.architecture) return 0;
  if (w.variant === o.variant) return 4;
  if (w.architecture === "arm" && w.variant && o.variant) {
    const wn = Number(w.variant.slice(1));
    const on = Number(o.variant.slice(1));
    if (on < wn) return 3 - (wn - on) / 10;
  }
  return 2;
}

/**
 * The manifest descriptor for `want` (default: this host) from an index. Throws NOT_FOUND listing
 * the platforms offered when none fits.
 */
export function selectManifest(index: ImageIndex, want: Platform = hostPlatform(), what = "image index"): Descriptor {
  let best: Descriptor | undefined;
  let bestScore = 0;
  for (const d of index.manifests) {
    if (!MANIFEST_TYPES.has(d.mediaType)) continue; // nested indexes, artifacts
    if (d.platform && (d.platform.os === "unknown" || d.platform.architecture === "unknown")) continue; // attestations
    const s = score(want, d.platform);
    if (s > bestScore) {
      best = d;
      bestScore = s;
    }
  }
  if (best) return best;
  const offered = index.manifests
    .filter((d) => MANIFEST_TYPES.has(d.mediaType) && d.platform)
    .map((d) => formatPlatform(d.platform as Platform));
  if (offered.length === 0) {
    throw new BerthError(Code.NOT_FOUND, `${what} lists no image manifests for any platform; it cannot run on ${formatPlatform(want)}`);
  }
  throw new BerthError(
    Code.NOT_FOUND,
    `no manifest for platform ${formatPlatform(want)} in ${what}; the image offers: ${[...new Set(offered)].join(", ")}`,
  );
}
