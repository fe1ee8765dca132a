// Parses and validates the four manifest shapes Berth pulls (OCI manifest and index, Docker
// schema 2 and manifest list) with strict shape checks and size caps; registry bytes are hostile.
import { invalid } from "../../errors.js";
import {
  CONFIG_TYPES, INDEX_TYPES, MANIFEST_TYPES, MAX_CONFIG_BYTES, MAX_INDEX_ENTRIES, MAX_LAYERS, MAX_MANIFEST_BYTES,
  MediaType, layerCompression,
} from "./media-types.js";
import {
  mediaType as readMediaType, object, optString, optStringMap, parseJson, sha256Digest, size, string, stringArray,
  type JsonObject,
} from "./json-shape.js";
import type { Platform } from "./platform-type.js";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  kind: "manifest";
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
}

export interface ImageIndex {
  kind: "index";
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type Manifest = ImageManifest | ImageIndex;

function readPlatform(v: unknown, what: string): Platform {
  const o = object(v, what);
  const p: Platform = { architecture: string(o.architecture, `${what}.architecture`), os: string(o.os, `${what}.os`) };
  const variant = optString(o.variant, `${what}.variant`);
  if (variant !== undefined && variant !== "") p.variant = variant;
  const osVersion = optString(o["os.version"], `${what}["os.version"]`);
  if (osVersion !== undefined) p.osVersion = osVersion;
  if (o["os.features"] !== undefined && o["os.features"] !== null) p.osFeatures = stringArray(o["os.features"], `${what}["os.features"]`, 64);
  return p;
}

export function readDescriptor(v: unknown, what: string): Descriptor {
  const o = object(v, what);
  const d: Descriptor = {
    mediaType: readMediaType(o.mediaType, `${what}.mediaType`),
    digest: sha256Digest(o.digest, `${what}.digest`),
    size: size(o.size, `${what}.size`),
  };
  if (o.urls !== undefined && o.urls !== null) d.urls = stringArray(o.urls, `${what}.urls`, 16);
  const annotations = optStringMap(o.annotations, `${what}.annotations`);
  if (annotations) d.annotations = annotations;
  if (o.platform !== undefined && o.platform !== null) d.platform = readPlatform(o.platform, `${what}.platform`);
  const artifactType = optString(o.artifactType, `${what}.artifactType`);
  if (artifactType !== undefined) d.artifactType = artifactType;
  return d;
}

/** The document's media type: its own `mediaType` field, else the Content-Type, else its shape. */
function documentType(o: JsonObject, contentType: string | undefined, what: string): string {
  const own = o.mediaType === undefined ? undefined : readMediaType(o.mediaType, `${what}.mediaType`);
  const header = contentType?.split(";")[0]?.trim().toLowerCase();
  const headerKnown = header !== undefined && (INDEX_TYPES.has(header) || MANIFEST_TYPES.has(header));
  if (own !== undefined) {
    if (headerKnown && header !== own) {
      throw invalid(`${what}: Content-Type "${header}" does not match its mediaType "${own}"; refusing an ambiguous document`);
    }
    return own;
  }
  if (headerKnown) return header;
  // OCI makes mediaType optional; Docker's types always carry it.
  if (Array.isArray(o.manifests)) return MediaType.ociIndex;
  if (o.config !== undefined) return MediaType.ociManifest;
  throw invalid(`${what} has no mediaType and is neither an index nor an image manifest`);
}

/** Parses an image manifest or index; `contentType` is the registry's Content-Type header if any. */
export function parseManifest(bytes: Buffer, contentType?: string, what = "manifest"): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(`${what} is ${bytes.length} bytes; at most ${MAX_MANIFEST_BYTES} are accepted`);
  const o = object(parseJson(bytes, what), what);
  if (o.schemaVersion === 1) {
    throw invalid(`${what} is a Docker schema 1 manifest, which Berth does not support; push the image again with a current tool`);
  }
  if (o.schemaVersion !== 2) throw invalid(`${what}.schemaVersion must be 2`);
  const type = documentType(o, contentType, what);
  const annotations = optStringMap(o.annotations, `${what}.annotations`);
  if (INDEX_TYPES.has(type)) {
    if (!Array.isArray(o.manifests)) throw invalid(`${what}.manifests must be an array`);
    if (o.manifests.length > MAX_INDEX_ENTRIES) throw invalid(`${what} lists ${o.manifests.length} manifests; at most ${MAX_INDEX_ENTRIES} are accepted`);
    const manifests = o.manifests.map((m, i) => readDescriptor(m, `${what}.manifests[${i}]`));
    if (type === MediaType.dockerList) {
      for (const [i, m] of manifests.entries()) {
        if (!MANIFEST_TYPES.has(m.mediaType)) throw invalid(`${what}.manifests[${i}].mediaType "${m.mediaType}" is not an image manifest type`);
      }
    }
    return { kind: "index", mediaType: type, manifests, ...(annotations ? { annotations } : {}) };
  }
  if (!MANIFEST_TYPES.has(type)) {
    throw invalid(`${what} has media type "${type}"; Berth pulls ${[...INDEX_TYPES, ...MANIFEST_TYPES].join(", ")}`);
  }
  const config = readDescriptor(o.config, `${what}.config`);
  if (!CONFIG_TYPES.has(config.mediaType)) {
    throw invalid(`${what}.config has media type "${config.mediaType}": this is an OCI artifact, not a container image`);
  }
  if (config.size > MAX_CONFIG_BYTES) throw invalid(`${what}.config is ${config.size} bytes; at most ${MAX_CONFIG_BYTES} are accepted`);
  if (!Array.isArray(o.layers)) throw invalid(`${what}.layers must be an array`);
  if (o.layers.length > MAX_LAYERS) throw invalid(`${what} has ${o.layers.length} layers; at most ${MAX_LAYERS} are accepted`);
  const layers = o.layers.map((l, i) => readDescriptor(l, `${what}.layers[${i}]`));
  for (const [i, l] of layers.entries()) {
    if (layerCompression(l.mediaType) === undefined) throw invalid(`${what}.layers[${i}] has unknown layer media type "${l.mediaType}"`);
  }
  const m: ImageManifest = { kind: "manifest", mediaType: type, config, layers };
  if (annotations) m.annotations = annotations;
  if (o.subject !== undefined && o.subject !== null) m.subject = readDescriptor(o.subject, `${what}.subject`);
  return m;
}
