// Berth's go-template subset over a JSON document, and the templates outside it refused by name.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTemplate, renderTemplate } from "../../../src/cli/template.js";

const doc = { status: { id: "abc", state: "CONTAINER_RUNNING", labels: { app: "web" } }, items: [{ id: "1" }, { id: "2" }], n: 3 };

const cases: Array<[string, string]> = [
  ["{{.status.id}}", "abc"],
  ["id={{ .status.id }} state={{.status.state}}", "id=abc state=CONTAINER_RUNNING"],
  ["{{range .items}}{{.id}},{{end}}", "1,2,"],
  ["{{range .items}}{{.id}}{{\"\\n\"}}{{end}}", "1\n2\n"],
  ["{{json .status.labels}}", '{"app":"web"}'],
  ["{{.n}}", "3"],
  ["{{.missing}}", "<no value>"],
  ["{{json .missing}}", "null"],
  ["{{range .status.labels}}{{.}}{{end}}", "web"],
  ["a {{- .status.id -}} b", "aabcb"],
  ["plain", "plain"],
];

for (const [t, want] of cases) test(`template ${t}`, () => assert.equal(renderTemplate(t, doc), want));

test("templates outside the subset are usage errors naming the part", () => {
  assert.throws(() => parseTemplate("{{if .x}}y{{end}}"), /"if \.x" is not supported/);
  assert.throws(() => parseTemplate("{{range .items}}x"), /range\}\} without \{\{end/);
  assert.throws(() => parseTemplate("x{{end}}"), /\{\{end\}\} without \{\{range/);
  assert.throws(() => parseTemplate("{{.a"), /unclosed/);
  assert.throws(() => parseTemplate("{{index .a 1}}"), /not supported/);
});
