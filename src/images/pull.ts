// PullImage: resolve the reference, fetch the config, then download layers in parallel while
// applying them in order (download → digest → decompress → tar → apply), and record the image.
import { BerthError, Code, describe } from "../errors.js";
import { diskFullError } from "../util/disk-full.js";
import { logger } from "../util/log.js";
import type { ImageContext } from "./context.js";
import { chainIds } from "./layers/chain.js";
import { fetchLayers, type LayerPlan } from "./pull-layers.js";
import type { AuthConfig } from "./registry/auth.js";
import { checkConfigMatchesManifest, parseImageConfig } from "./registry/image-config.js";
import { MAX_CONFIG_BYTES } from "./registry/media-types.js";
import { formatDigested, formatReference, formatTagged, parseReference, type Reference } from "./registry/reference.js";
import type { ImageRecord, LayerRef } from "./store.js";
import { withSpan } from "../trace/span.js";

const log = logger("pull");

export interface PullOptions {
  auth?: AuthConfig;
  signal?: AbortSignal;
}

// Failures that say nothing about the content: what was downloaded stays for the retry.
const TRANSIENT = new Set<Code>([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.CANCELLED, Code.RESOURCE_EXHAUSTED]);

export function pullImage(ctx: ImageContext, input: string, opts: PullOptions = {}): Promise<ImageRecord> {
  return withSpan("image pull", { "berth.image.ref": input }, () => pull(ctx, input, opts));
}

async function pull(ctx: ImageContext, input: string, opts: PullOptions): Promise<ImageRecord> {
  const asked = parseReference(input);
  const progress = ctx.progress.start(formatReference(asked));
  const started = performance.now();
  const releases: (() => void)[] = [];
  let chain: string[] = [];
  progress.pull("resolving");
  try {
    const call = { ...(opts.auth ? { auth: opts.auth } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    const { top, image } = await ctx.registry.resolveImage(asked, call);
    const name = top.name;
    const manifest = image.manifest;
    const cfgDesc = manifest.config;
    const indexDigests = top === image ? [] : [top.digest];
    releases.push(ctx.blobLeases.acquire([image.digest, cfgDesc.digest, ...indexDigests, ...manifest.layers.map((l) => l.digest)]));
    await ctx.content.put(image.digest, image.bytes);
    if (top !== image) await ctx.content.put(top.digest, top.bytes);
    const cfgWhat = `image config ${cfgDesc.digest} of ${name}`;
    const cfgBytes = await ctx.content.getOrFetch(cfgDesc.digest, MAX_CONFIG_BYTES, () =>
      ctx.registry.fetchBlobBytes(name, cfgDesc.digest, MAX_CONFIG_BYTES, call));
    const config = parseImageConfig(cfgBytes, cfgWhat);
    checkConfigMatchesManifest(config, manifest, `image ${name}@${image.digest}`);
    chain = chainIds(config.diffIds);
    ctx.layers.acquire(chain);
    releases.push(() => ctx.layers.release(chain));
    progress.pull("resolved", { layers: manifest.layers.map((l) => ({ digest: l.digest, size: l.size })) });

    const plans: LayerPlan[] = manifest.layers.map((l, i) => ({ desc: l, diffId: config.diffIds[i]!, chainId: chain[i]! }));
    await fetchLayers(ctx, { name, plans, progress, ...call });

    const layers: LayerRef[] = plans.map((p) => ({
      digest: p.desc.digest, size: p.desc.size, mediaType: p.desc.mediaType, diffId: p.diffId, chainId: p.chainId,
    }));
    const rec = record(ctx, {
      id: cfgDesc.digest, name, asked, topDigest: top.digest, indexDigests,
      manifestDigest: image.digest, manifestMediaType: image.mediaType, manifestSize: image.bytes.length,
      configMediaType: cfgDesc.mediaType, configSize: cfgBytes.length, layers, user: config.config.user ?? "",
    });
    const orphans = ctx.images.commit(rec);
    if (orphans.length > 0) void ctx.gc();
    progress.pull("done", { image: rec.id });
    log.info({ ref: formatReference(asked), image: rec.id, layers: layers.length, ms: Math.round(performance.now() - started) }, "image pulled");
    return rec;
  } catch (err) {
    const full = diskFullError(err, `pull ${input}`);
    const e = full ?? (err instanceof BerthError ? err : new BerthError(Code.INTERNAL, `pull ${input}: ${describe(err)}`, { cause: err }));
    progress.pull("failed", { error: e.message });
    for (const r of releases.splice(0)) r();
    // Bad content leaves nothing behind; a transient failure keeps what is verified for the retry.
    if (!TRANSIENT.has(e.code)) await ctx.gc();
    else if (full) await ctx.gc({ idlePartials: true }); // a full disk: this pull's .partial files go too
    throw e;
  } finally {
    for (const r of releases) r();
  }
}

interface RecordInput {
  id: string;
  name: string;
  asked: Reference;
  topDigest: string;
  indexDigests: string[];
  manifestDigest: string;
  manifestMediaType: string;
  manifestSize: number;
  configMediaType: string;
  configSize: number;
  layers: LayerRef[];
  user: string;
}

/**
 * The image's record after this pull: its earlier tags and digests plus this reference's.
 * As containerd does, a pull by digest adds no tag (name:tag@digest drops the tag). A short
 * name rewritten by a registries.conf alias is also tagged under the name asked for, so
 * kubelet's ImageStatus with the pod's image string finds it.
 */
function record(ctx: ImageContext, r: RecordInput): ImageRecord {
  const prev = ctx.images.get(r.id);
  const tags = new Set(prev?.repoTags ?? []);
  const digests = new Set(prev?.repoDigests ?? []);
  if (r.asked.digest === undefined) {
    tags.add(formatTagged({ name: r.name, tag: r.asked.tag ?? "latest" }));
    if (r.asked.name !== r.name) tags.add(formatTagged(r.asked));
  } else if (r.asked.name !== r.name) {
    digests.add(formatDigested(r.asked.name, r.asked.digest));
  }
  digests.add(formatDigested(r.name, r.topDigest));
  const indexDigests = [...new Set([...(prev?.indexDigests ?? []), ...r.indexDigests])];
  const size = r.manifestSize + r.configSize + r.layers.reduce((n, l) => n + l.size, 0);
  return {
    id: r.id,
    repoTags: [...tags],
    repoDigests: [...digests],
    size,
    manifestDigest: r.manifestDigest,
    manifestMediaType: r.manifestMediaType,
    manifestSize: r.manifestSize,
    configMediaType: r.configMediaType,
    configSize: r.configSize,
    indexDigests,
    layers: r.layers,
    user: r.user,
    created: prev?.created ?? Date.now(),
  };
}
