// Renders the commented default config file (`berth config default`) from the key table, so
// the printed file, the parser and the README can never disagree.
import { stringify } from "smol-toml";
import { KEYS } from "./keys.js";

export function defaultConfigToml(): string {
  const lines = ["# Berth configuration (/etc/berth/config.toml). Every key is optional; shown are the defaults.",
    "# Environment variables BERTH_<SECTION>_<KEY> and command-line flags override this file.", ""];
  let section = "";
  for (const k of KEYS) {
    const parts = k.path.split(".");
    const sec = parts.length > 1 ? parts[0]! : "";
    if (sec !== section) {
      section = sec;
      lines.push("", `[${sec}]`);
    }
    const name = parts[parts.length - 1]!;
    lines.push(`# ${k.doc}`);
    // A table-valued key (runtime.handlers) stays inline so it does not open a section of its own.
    const isTable = typeof k.default === "object" && !Array.isArray(k.default);
    lines.push(isTable ? `${name} = {}` : stringify({ [name]: k.default }).trim());
  }
  return lines.join("\n").trim() + "\n";
}
