// `-o go-template --template T`: the part of Go's text/template crictl users write — {{.a.b}},
// {{.}}, {{range .items}}…{{end}}, {{json .x}}, {{"text"}} and {{- -}} trimming — over the JSON document.
import { UsageError } from "./output.js";

type Node = { kind: "text"; text: string } | { kind: "value"; fn: "json" | undefined; path: string } | { kind: "range"; path: string; body: Node[] };

const ACTION = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs;

function tokenize(t: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let last = 0;
  let trimNext = false;
  for (const m of t.matchAll(ACTION)) {
    let text = t.slice(last, m.index);
    if (trimNext) text = text.trimStart();
    if (m[1] === "-") text = text.trimEnd();
    if (text) out.push({ text });
    out.push({ action: m[2]! });
    trimNext = m[3] === "-";
    last = m.index + m[0].length;
  }
  let tail = t.slice(last);
  if (trimNext) tail = tail.trimStart();
  if (tail.includes("{{")) throw new UsageError(`--template: unclosed "{{" in ${JSON.stringify(t)}`);
  if (tail) out.push({ text: tail });
  return out;
}

function checkPath(p: string, t: string): string {
  if (!/^\.([A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*)?$/.test(p)) {
    throw new UsageError(`--template ${JSON.stringify(t)}: "${p}" is not supported; Berth's go-template knows .field.path, range … end, json and "text"`);
  }
  return p;
}

/** Parses a template (the subset above); a UsageError names anything outside it. */
export function parseTemplate(t: string): Node[] {
  const tokens = tokenize(t);
  let i = 0;
  const block = (inRange: boolean): Node[] => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const tok = tokens[i++]!;
      if ("text" in tok) {
        nodes.push({ kind: "text", text: tok.text });
        continue;
      }
      const a = tok.action;
      if (a === "end") {
        if (!inRange) throw new UsageError(`--template ${JSON.stringify(t)}: {{end}} without {{range}}`);
        return nodes;
      }
      const str = /^"((?:[^"\\]|\\.)*)"$/.exec(a);
      if (str) {
        nodes.push({ kind: "text", text: JSON.parse(`"${str[1]}"`) as string });
        continue;
      }
      const range = /^range\s+(\S+)$/.exec(a);
      if (range) {
        nodes.push({ kind: "range", path: checkPath(range[1]!, t), body: block(true) });
        continue;
      }
      const json = /^json\s+(\S+)$/.exec(a);
      if (json) {
        nodes.push({ kind: "value", fn: "json", path: checkPath(json[1]!, t) });
        continue;
      }
      nodes.push({ kind: "value", fn: undefined, path: checkPath(a, t) });
    }
    if (inRange) throw new UsageError(`--template ${JSON.stringify(t)}: {{range}} without {{end}}`);
    return nodes;
  };
  return block(false);
}

function lookup(dot: unknown, path: string): unknown {
  let v = dot;
  for (const k of path.split(".").slice(1)) {
    if (k === "") continue;
    v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v;
}

/** Go prints a missing field as "<no value>" and a string as itself; other values here as JSON. */
function show(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

function run(nodes: Node[], dot: unknown): string {
  let out = "";
  for (const n of nodes) {
    if (n.kind === "text") out += n.text;
    else if (n.kind === "value") out += n.fn === "json" ? JSON.stringify(lookup(dot, n.path) ?? null) : show(lookup(dot, n.path));
    else {
      const v = lookup(dot, n.path);
      const items = Array.isArray(v) ? v : v !== null && typeof v === "object" ? Object.values(v) : [];
      for (const item of items) out += run(n.body, item);
    }
  }
  return out;
}

/** Renders a template over a JSON document (as crictl does over its JSON output). */
export function renderTemplate(t: string, doc: unknown): string {
  return run(parseTemplate(t), doc);
}
