// `berth image import`: an OCI image layout tar (index.json) or a `docker save` tarball
// (manifest.json) becomes images in the store, layers applied exactly as for a pull.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { BerthError, Code, describe, invalid } from "../../errors.js";
import { logger } from "../../util/log.js";
import type { ImageContext } from "../context.js";
import { chainIds } from "../layers/chain.js";
import { fetchLayers, type LayerPlan } from "../pull-layers.js";
import { checkConfigMatchesManifest, parseImageConfig } from "../registry/image-config.js";
import { parseManifest, type Descriptor, type ImageManifest } from "../registry/manifest.js";
import { INDEX_TYPES, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, MediaType } from "../registry/media-types.js";
import { selectManifest } from "../registry/platform.js";
import { formatDigested, formatTagged, parseReference } from "../registry/reference.js";
import type { ImageRecord } from "../store.js";
import { readArchive, type ArchiveContents } from "./read.js";

const log = logger("import");

interface Candidate {
  /** Normalised "name:tag" references to give the image. */
  tags: string[];
  /** Repository name for a repo digest (OCI layouts with a full name), if any. */
  name?: string;
  manifestDigest: string;
  manifest: ImageManifest;
  manifestMediaType: string;
  manifestSize: number;
}

const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

const IMAGE_NAME_KEYS = ["io.containerd.image.name", "org.opencontainers.image.ref.name"];

/** A full reference from an index annotation; a bare tag ("v1") names no repository and is ignored. */
function nameFrom(annotations: Record<string, string> | undefined): { tag?: string; name?: string } {
  for (const k of IMAGE_NAME_KEYS) {
    const v = annotations?.[k];
    if (!v || !v.includes("/")) continue;
    try {
      const ref = parseReference(v);
      return ref.digest ? { name: ref.name } : { name: ref.name, tag: formatTagged(ref) };
    } catch {
      continue;
    }
  }
  return {};
}

async function ociCandidates(ctx: ImageContext, indexBytes: Buffer): Promise<Candidate[]> {
  const index = parseManifest(indexBytes, MediaType.ociIndex, "image archive index.json");
  if (index.kind !== "index") throw invalid("image archive: index.json is not an image index");
  const out: Candidate[] = [];
  for (const top of index.manifests) {
    let desc: Descriptor = top;
    if (INDEX_TYPES.has(desc.mediaType)) {
      const nested = parseManifest(await ctx.content.read(desc.digest, MAX_MANIFEST_BYTES), desc.mediaType, `image archive index ${desc.digest}`);
      if (nested.kind !== "index") throw invalid(`image archive: ${desc.digest} is not an index`);
      desc = selectManifest(nested, undefined, `image archive index ${top.digest}`);
    }
    const bytes = await ctx.content.read(desc.digest, MAX_MANIFEST_BYTES).catch(() => {
      throw invalid(`image archive: manifest ${desc.digest} named in index.json is not in the archive`);
    });
    const m = parseManifest(bytes, desc.mediaType, `image archive manifest ${desc.digest}`);
    if (m.kind !== "manifest") throw invalid(`image archive: ${desc.digest} is not an image manifest`);
    const named = nameFrom(top.annotations);
    out.push({
      tags: named.tag ? [named.tag] : [], ...(named.name ? { name: named.name } : {}),
      manifestDigest: desc.digest, manifest: m, manifestMediaType: m.mediaType, manifestSize: bytes.length,
    });
  }
  return out;
}

interface DockerEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

/** The layer media type of a stored blob, from its first bytes (docker save writes plain tars). */
async function sniff(ctx: ImageContext, digest: string): Promise<string> {
  const head = Buffer.alloc(4);
  const fh = await open(ctx.content.path(digest), "r");
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) return MediaType.dockerLayerGzip;
  if (head.readUInt32LE(0) === 0xfd2fb528) return MediaType.ociLayerZstd;
  return MediaType.dockerLayer;
}

async function dockerCandidates(ctx: ImageContext, a: ArchiveContents, manifestJson: Buffer): Promise<Candidate[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(manifestJson.toString("utf8"));
  } catch (err) {
    throw invalid(`image archive: manifest.json is not JSON: ${describe(err)}`);
  }
  if (!Array.isArray(doc)) throw invalid("image archive: manifest.json must be an array");
  const out: Candidate[] = [];
  for (const [i, raw] of (doc as DockerEntry[]).entries()) {
    const what = `image archive manifest.json[${i}]`;
    if (typeof raw?.Config !== "string" || !Array.isArray(raw.Layers)) throw invalid(`${what}: Config and Layers are required`);
    const configPath = raw.Config;
    const configBytes = a.docs.get(configPath) ?? (a.blobs.has(configPath) ? await ctx.content.read(a.blobs.get(configPath)!, MAX_CONFIG_BYTES) : undefined);
    if (!configBytes) throw invalid(`${what}: config ${configPath} is not in the archive`);
    const configDigest = sha256(configBytes);
    await ctx.content.put(configDigest, configBytes);
    const layers: Descriptor[] = [];
    for (const l of raw.Layers) {
      const digest = typeof l === "string" ? a.blobs.get(l) : undefined;
      if (!digest) throw invalid(`${what}: layer ${String(l)} is not in the archive`);
      layers.push({ mediaType: await sniff(ctx, digest), digest, size: (await ctx.content.size(digest)) ?? 0 });
    }
    // Docker's archives carry no manifest: write the Docker schema 2 manifest it implies.
    const manifest = {
      schemaVersion: 2, mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: configDigest, size: configBytes.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256(bytes);
    await ctx.content.put(manifestDigest, bytes);
    const m = parseManifest(bytes, MediaType.dockerManifest, what);
    if (m.kind !== "manifest") throw invalid(`${what}: not an image manifest`);
    const tags = (Array.isArray(raw.RepoTags) ? raw.RepoTags : []).filter((t): t is string => typeof t === "string").map((t) => formatTagged(parseReference(t)));
    out.push({ tags, manifestDigest, manifest: m, manifestMediaType: m.mediaType, manifestSize: bytes.length });
  }
  return out;
}

/** Imports every image of the archive; resolves to their records. */
export async function importArchive(ctx: ImageContext, input: Readable): Promise<ImageRecord[]> {
  const releases: (() => void)[] = [];
  const leased = new Set<string>();
  const lease = (d: string): void => {
    if (leased.has(d)) return;
    leased.add(d);
    releases.push(ctx.blobLeases.acquire([d]));
  };
  try {
    const a = await readArchive(input, ctx.content, lease);
    const index = a.docs.get("index.json");
    const dockerManifest = a.docs.get("manifest.json");
    if (!index && !dockerManifest) throw invalid("image archive has neither index.json (OCI layout) nor manifest.json (docker save)");
    const candidates = index ? await ociCandidates(ctx, index) : await dockerCandidates(ctx, a, dockerManifest!);
    const out: ImageRecord[] = [];
    for (const c of candidates) out.push(await importOne(ctx, c, lease));
    log.info({ images: out.map((r) => ({ id: r.id, tags: r.repoTags })) }, "images imported");
    return out;
  } finally {
    for (const r of releases) r();
    void ctx.gc();
  }
}

async function importOne(ctx: ImageContext, c: Candidate, lease: (d: string) => void): Promise<ImageRecord> {
  const m = c.manifest;
  lease(c.manifestDigest);
  lease(m.config.digest);
  const configBytes = await ctx.content.read(m.config.digest, MAX_CONFIG_BYTES).catch(() => {
    throw invalid(`image archive: config ${m.config.digest} is not in the archive`);
  });
  const config = parseImageConfig(configBytes, `image config ${m.config.digest}`);
  checkConfigMatchesManifest(config, m, `image ${c.manifestDigest}`);
  const chain = chainIds(config.diffIds);
  const plans: LayerPlan[] = m.layers.map((l, i) => ({ desc: l, diffId: config.diffIds[i]!, chainId: chain[i]! }));
  ctx.layers.acquire(chain);
  try {
    const label = c.tags[0] ?? c.manifestDigest;
    await fetchLayers(ctx, {
      name: `archive image ${label}`, plans, progress: ctx.progress.start(`import:${label}`),
      open: (p) => () => Promise.reject(new BerthError(Code.INVALID_ARGUMENT, `image archive: layer ${p.desc.digest} is not in the archive`)),
    });
    const prev = ctx.images.get(m.config.digest);
    const rec: ImageRecord = {
      id: m.config.digest,
      repoTags: [...new Set([...(prev?.repoTags ?? []), ...c.tags])],
      repoDigests: [...new Set([...(prev?.repoDigests ?? []), ...(c.name ? [formatDigested(c.name, c.manifestDigest)] : [])])],
      size: c.manifestSize + configBytes.length + m.layers.reduce((n, l) => n + l.size, 0),
      manifestDigest: c.manifestDigest, manifestMediaType: c.manifestMediaType, manifestSize: c.manifestSize,
      configMediaType: m.config.mediaType, configSize: configBytes.length,
      indexDigests: prev?.indexDigests ?? [],
      layers: plans.map((p) => ({ digest: p.desc.digest, size: p.desc.size, mediaType: p.desc.mediaType, diffId: p.diffId, chainId: p.chainId })),
      user: config.config.user ?? "",
      created: prev?.created ?? Date.now(),
    };
    if (rec.repoTags.length === 0 && rec.repoDigests.length === 0) {
      // Nothing would name it; keep it reachable by ID the way `docker load` keeps dangling images.
      log.info({ image: rec.id }, "imported image has no name; find it by ID");
    }
    ctx.images.commit(rec);
    return rec;
  } finally {
    ctx.layers.release(chain);
  }
}
