// Fuzz target: image manifests and indexes as a registry or an archive serves them
// (src/images/registry/manifest.ts), with the Content-Type chosen by the first byte.
import { parseManifest } from "../../../src/images/registry/manifest.js";
import { MediaType } from "../../../src/images/registry/media-types.js";
import { holds, parseOrRefuse, split } from "../check.js";

const TYPES = [undefined, ...Object.values(MediaType), "application/json", "text/plain; charset=utf-8"];
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function fuzz(data: Buffer): void {
  const { sel, rest } = split(data);
  const contentType = TYPES[sel % TYPES.length];
  const m = parseOrRefuse(() => parseManifest(rest, contentType));
  if (!m) return;
  const descriptors = m.kind === "index" ? m.manifests : [m.config, ...m.layers, ...(m.subject ? [m.subject] : [])];
  for (const d of descriptors) {
    holds(DIGEST.test(d.digest), `descriptor digest ${JSON.stringify(d.digest)} accepted`);
    holds(Number.isSafeInteger(d.size) && d.size >= 0, `descriptor size ${d.size} accepted`);
    holds(typeof d.mediaType === "string" && d.mediaType.length > 0, "descriptor without a media type accepted");
  }
}
