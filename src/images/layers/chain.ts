// ChainIDs (OCI image-spec config.md): a layer's identity together with everything below it,
// ChainID(L0) = DiffID(L0), ChainID(L0…Ln) = sha256(ChainID(L0…Ln−1) + " " + DiffID(Ln)).
import { createHash } from "node:crypto";

export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash("sha256").update(`${prev} ${d}`).digest("hex")}`);
  }
  return out;
}
