// Fuzz target: registry WWW-Authenticate headers (src/images/registry/challenge.ts), which a
// hostile registry fully controls. The parser never refuses; it must not throw or loop.
import { parseWwwAuthenticate } from "../../../src/images/registry/challenge.js";
import { holds } from "../check.js";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

export function fuzz(data: Buffer): void {
  const text = data.toString("latin1");
  // Several header lines arrive as an array (Node joins nothing for WWW-Authenticate).
  const header = text.includes("\n") ? text.split("\n") : text;
  const challenges = parseWwwAuthenticate(header);
  // The parser joins several lines with ", ".
  const length = Array.isArray(header) ? header.join(", ").length : text.length;
  holds(challenges.length <= length, `${challenges.length} challenges from ${length} characters`);
  for (const c of challenges) {
    holds(TOKEN.test(c.scheme), `scheme ${JSON.stringify(c.scheme)} is not a lower-case token`);
    for (const [k, v] of Object.entries(c.params)) {
      holds(TOKEN.test(k), `param name ${JSON.stringify(k)} is not a lower-case token`);
      holds(typeof v === "string" && v.length <= length, `param ${k} value is not a bounded string`);
    }
  }
}
