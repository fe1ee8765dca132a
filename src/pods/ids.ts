// Pod (and later container) IDs: 64 random hex characters, resolved from what users type — the
// full ID or any unique prefix, as crictl users expect; an ambiguous prefix names the candidates.
import { randomBytes } from "node:crypto";
import { invalid } from "../errors.js";

const HEX = /^[0-9a-f]+$/;

export function newId(taken: (id: string) => boolean = () => false): string {
  for (;;) {
    const id = randomBytes(32).toString("hex");
    if (!taken(id)) return id;
  }
}

/**
 * The one ID among `ids` equal to or starting with `ref`; undefined when none does.
 * An empty ref is an InvalidArgument, and so is a prefix shared by several IDs.
 */
export function resolveId(ids: Iterable<string>, ref: string, what: string): string | undefined {
  if (ref === "") throw invalid(`${what} ID must not be empty`);
  const r = ref.toLowerCase();
  if (!HEX.test(r)) return undefined;
  const matches: string[] = [];
  for (const id of ids) {
    if (id === r) return id;
    if (id.startsWith(r)) matches.push(id);
  }
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).map((m) => m.slice(0, 13)).join(", ");
    throw invalid(`${what} ID prefix "${ref}" is ambiguous: it matches ${matches.length} IDs (${shown}${matches.length > 5 ? ", ..." : ""}); give more characters`);
  }
  return matches[0];
}

/**
 * The one ID a List filter's `ref` names, resolved as containerd resolves CRI filters (its
 * truncindex): a full ID as given, else the one ID the prefix starts. A prefix shared by several
 * IDs, or by none, names nothing, so the List answers nothing instead of several objects' worth.
 */
export function filterMatch(ref: string, ids: () => Iterable<string>): string | undefined {
  const r = ref.toLowerCase();
  if (r.length === 64) return r;
  try {
    return resolveId(ids(), r, "filter");
  } catch {
    return undefined; // ambiguous
  }
}
