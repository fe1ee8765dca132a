// Fuzz target: containers-registries.conf(5) v2 files (src/images/registry/registries-conf.ts)
// and the prefix match run on every pull. A bad file must be refused with a BerthError naming it.
import { matchRegistry, parseFile } from "../../../src/images/registry/registries-conf.js";
import { holds, parseOrRefuse } from "../check.js";

const REFS = ["docker.io/library/busybox:latest", "example.test:5000/a/b@sha256:" + "0".repeat(64), "sub.example.test/x", "localhost/y:z"];

export function fuzz(data: Buffer): void {
  const conf = parseOrRefuse(() => parseFile(data.toString("utf8"), "/etc/containers/registries.conf"));
  if (!conf) return;
  for (const r of conf.registries) {
    holds(r.prefix !== "", "a registry with an empty prefix was accepted");
    holds(r.prefix.startsWith("*.") ? r.location === "" : r.location !== "", `prefix ${r.prefix} with location ${JSON.stringify(r.location)}`);
    holds(r.mirrors.every((m) => m.location !== ""), "a mirror without a location was accepted");
  }
  const full = { ...conf, sources: ["/etc/containers/registries.conf"] };
  for (const ref of [...REFS, ...conf.registries.map((r) => `${r.prefix.replace(/^\*\./, "a.")}/img`)]) {
    const m = matchRegistry(full, ref);
    if (m && !m.prefix.startsWith("*.")) holds(ref.startsWith(m.prefix), `${ref} matched prefix ${m.prefix}`);
  }
}
