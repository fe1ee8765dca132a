// Fuzz target: CDI spec files (src/containers/cdi): YAML or JSON text through the parser and the
// validator. A bad spec must be refused with CdiParseError naming what is wrong.
import { CdiParseError, parseCdiSpec } from "../../../src/containers/cdi/parse.js";
import { validateCdiSpec } from "../../../src/containers/cdi/validate.js";
import { holds, parseOrRefuse } from "../check.js";

export function fuzz(data: Buffer): void {
  const raw = parseOrRefuse(() => parseCdiSpec(data.toString("utf8")), [CdiParseError]);
  if (!raw) return;
  holds(Array.isArray(raw.devices), "devices is not an array");
  const spec = parseOrRefuse(() => validateCdiSpec(raw, "/etc/cdi/fuzz.yaml", 0), [CdiParseError]);
  if (!spec) return;
  holds(spec.vendor !== "" && spec.class !== "", `kind ${JSON.stringify(raw.kind)} validated without vendor/class`);
  holds(spec.devices.length > 0, "a spec without devices validated");
  holds(new Set(spec.devices.map((d) => d.name)).size === spec.devices.length, "duplicate device names validated");
}
