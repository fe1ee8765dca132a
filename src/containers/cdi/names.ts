// CDI device names: `vendor/class=name`, the rules the CDI parser package gives for each part,
// and the devices a container asks for (CRI CDI_devices, then the older cdi.k8s.io/ annotations).

export const CDI_ANNOTATION_PREFIX = "cdi.k8s.io/";

const letter = (c: string) => /^[A-Za-z]$/.test(c);
const alnum = (c: string) => /^[A-Za-z0-9]$/.test(c);

/** A reason the vendor or class part is bad, or undefined when it is good. */
function vendorOrClassProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (!letter(name[0]!)) return `${JSON.stringify(name)} must start with a letter`;
  if (name.length === 1) return undefined;
  for (const c of name.slice(1, -1)) {
    if (!alnum(c) && c !== "_" && c !== "-" && c !== ".") return `${JSON.stringify(name)} has the character ${JSON.stringify(c)} (allowed: letters, digits, "_", "-", ".")`;
  }
  if (!alnum(name[name.length - 1]!)) return `${JSON.stringify(name)} must end with a letter or digit`;
  return undefined;
}

export function vendorProblem(vendor: string): string | undefined {
  const p = vendorOrClassProblem(vendor);
  return p && `invalid vendor: ${p}`;
}

export function classProblem(cls: string): string | undefined {
  const p = vendorOrClassProblem(cls);
  return p && `invalid class: ${p}`;
}

export function deviceNameProblem(name: string): string | undefined {
  if (name === "") return "invalid device name: it is empty";
  if (!alnum(name[0]!)) return `invalid device name ${JSON.stringify(name)}: it must start with a letter or digit`;
  if (name.length === 1) return undefined;
  for (const c of name.slice(1, -1)) {
    if (!alnum(c) && c !== "_" && c !== "-" && c !== "." && c !== ":") {
      return `invalid device name ${JSON.stringify(name)}: it has the character ${JSON.stringify(c)} (allowed: letters, digits, "_", "-", ".", ":")`;
    }
  }
  if (!alnum(name[name.length - 1]!)) return `invalid device name ${JSON.stringify(name)}: it must end with a letter or digit`;
  return undefined;
}

/** `vendor/class` → [vendor, class]; ["", kind] when it has no "/" or an empty side. */
export function parseKind(kind: string): [string, string] {
  const i = kind.indexOf("/");
  if (i <= 0 || i === kind.length - 1) return ["", kind];
  return [kind.slice(0, i), kind.slice(i + 1)];
}

export interface QualifiedName {
  vendor: string;
  class: string;
  name: string;
}

/** Parses `vendor/class=name`; the string is a reason when the name is not fully qualified and valid. */
export function parseQualifiedName(device: string): QualifiedName | string {
  const eq = device.startsWith("/") ? -1 : device.indexOf("=");
  const qualifier = eq > 0 ? device.slice(0, eq) : "";
  const name = eq > 0 ? device.slice(eq + 1) : "";
  const [vendor, cls] = qualifier && name ? parseKind(qualifier) : ["", ""];
  if (vendor === "") return `${JSON.stringify(device)} is not a fully qualified CDI device name (vendor.com/class=name)`;
  const p = vendorProblem(vendor) ?? classProblem(cls) ?? deviceNameProblem(name);
  if (p) return `${JSON.stringify(device)} is not a valid CDI device name: ${p}`;
  return { vendor, class: cls, name };
}

/**
 * The devices a container asks for: CDI_devices in order, then the cdi.k8s.io/<key> annotations
 * (comma-separated names; keys in sorted order), each name once. Names are not checked here.
 */
export function requestedDevices(cdiDevices: readonly { name: string }[], annotations: Readonly<Record<string, string>>): { name: string; from: string }[] {
  const out: { name: string; from: string }[] = [];
  const seen = new Set<string>();
  const add = (name: string, from: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push({ name, from });
  };
  cdiDevices.forEach((d, i) => add(d.name, `CDI_devices[${i}]`));
  for (const key of Object.keys(annotations).sort()) {
    if (!key.startsWith(CDI_ANNOTATION_PREFIX)) continue;
    for (const name of annotations[key]!.split(",")) add(name, `annotation ${key}`);
  }
  return out;
}
