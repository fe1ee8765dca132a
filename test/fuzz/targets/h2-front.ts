// Fuzz target: the HTTP/2 front door (src/h2-front): client bytes cut into random chunks through
// the frame rewriter and its HPACK authority fixer, and raw HPACK blocks through the fixer alone.
import { H2AuthorityRewriter, SERVER_LIMITS } from "../../../src/h2-front/frame-rewriter.js";
import { fixAuthorityInHeaderBlock } from "../../../src/h2-front/hpack-authority.js";
import { chunks, holds, split } from "../check.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const MAX_HELD = (1 + SERVER_LIMITS.maxContinuations) * (9 + SERVER_LIMITS.maxFrameSize);

export function fuzz(data: Buffer): void {
  const { sel, rest } = split(data);
  if (sel & 0x80) {
    // A bare header block: the fixer rewrites in place and never changes the length.
    const block = Buffer.from(rest);
    fixAuthorityInHeaderBlock(block);
    holds(block.length === rest.length, "the HPACK fixer changed a block's length");
    return;
  }
  const input = sel & 0x40 ? rest : Buffer.concat([PREFACE, rest]);
  const r = new H2AuthorityRewriter();
  let out = 0;
  for (const c of chunks(Buffer.from(input), sel & 0x3f)) {
    for (const b of r.push(c)) out += b.length;
    holds(r.heldBytes <= MAX_HELD, `holds ${r.heldBytes} bytes, over the block limit ${MAX_HELD}`);
  }
  for (const b of r.end()) out += b.length;
  // Nothing is dropped or added: every byte in comes out (rewrites keep lengths).
  holds(out === input.length, `${input.length} bytes in, ${out} out`);
}
