// Parses WWW-Authenticate headers (RFC 7235) as registries send them, e.g.
// `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:x:pull"`.
export interface Challenge {
  /** Lower-case scheme: "bearer", "basic", ... */
  scheme: string;
  params: Record<string, string>;
}

/** All challenges in a header (several may share one header, separated by commas). */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(", ") : header;
  const out: Challenge[] = [];
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && (text[i] === " " || text[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text.charAt(i))) i++;
    return text.slice(start, i);
  };
  while (i < n) {
    skipSpace();
    while (i < n && text[i] === ",") { i++; skipSpace(); }
    const scheme = token();
    if (scheme === "") { i++; continue; }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    // auth-params: name=value or name="quoted", separated by commas, until the next scheme.
    for (;;) {
      skipSpace();
      const save = i;
      const name = token();
      skipSpace();
      if (name === "" || text[i] !== "=") { i = save; break; }
      i++;
      skipSpace();
      let value = "";
      if (text[i] === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === "\\" && i + 1 < n) i++;
          value += text[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < n && text[i] !== "," && text[i] !== " ") i++;
        value = text.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (text[i] === ",") { i++; continue; }
      break;
    }
  }
  return out;
}
