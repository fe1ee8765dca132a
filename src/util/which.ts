// Finds an executable on PATH (or checks an absolute path) once, so drivers can report a
// missing runc/conmon/plugin clearly instead of failing on the first spawn.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function which(name: string, path = process.env["PATH"] ?? ""): string | undefined {
  const candidates = name.includes("/") ? [name] : path.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}
