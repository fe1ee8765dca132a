// Fuzz target: containerd-style hosts.toml files (src/images/registry/hosts-toml.ts) and the
// endpoints made from their entries. A bad file must be refused with a BerthError naming it.
import { validateHeaderName, validateHeaderValue } from "node:http";
import { entryToEndpoint, parseHostsToml } from "../../../src/images/registry/hosts-toml.js";
import { holds, parseOrRefuse } from "../check.js";

export function fuzz(data: Buffer): void {
  const file = parseOrRefuse(() => parseHostsToml(data.toString("utf8"), "/etc/berth/certs.d/example.test/hosts.toml"));
  if (!file) return;
  for (const e of [...(file.server ? [file.server] : []), ...file.mirrors]) {
    holds(e.caPaths.every((p) => p.startsWith("/")), "a CA path is not absolute after resolving");
    // Sent with every request to that host: Node must accept each name and value.
    for (const [k, v] of Object.entries(e.headers)) {
      try {
        validateHeaderName(k);
        validateHeaderValue(k, v);
      } catch (err) {
        holds(false, `header ${JSON.stringify(k)}: ${JSON.stringify(v)} was accepted but cannot be sent: ${(err as Error).message}`);
      }
    }
    const ep = parseOrRefuse(() => entryToEndpoint(e, "library/busybox", e !== file.server));
    if (!ep) continue;
    holds(ep.scheme === "http" || ep.scheme === "https", `endpoint scheme ${ep.scheme}`);
    holds(ep.url.startsWith(`${ep.scheme}://`), `endpoint url ${ep.url} does not start with its scheme`);
  }
}
