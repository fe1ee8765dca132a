// Runs every compiled test file (unit, then end-to-end) with node's test runner; `npm test`
// calls this after the build. Extra arguments narrow the run: `npm test -- e2e/daemon`.
import { spawnSync } from "node:child_process";
import { globSync } from "node:fs";

const filters = process.argv.slice(2);
const files = [...globSync("dist/test/unit/**/*.test.js").sort(), ...globSync("dist/test/e2e/**/*.test.js").sort()]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--test", "--test-concurrency=1", "--test-reporter=spec", "--test-timeout=300000", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
