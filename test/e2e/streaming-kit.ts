// What the streaming end-to-end tests share: where the Go reference client (crictl v1.26.1)
// is, and the rule for when it is missing (a failure under CI=true, a skip with the reason elsewhere).
import { existsSync } from "node:fs";

export const CRICTL = process.env["BERTH_CRICTL"] ?? "/opt/cri-tools/bin/crictl";

/** false when crictl is there; a skip reason otherwise; throws under CI=true, where the interop tests must run. */
export function crictlMissing(): false | string {
  if (existsSync(CRICTL)) return false;
  const why = `${CRICTL} is not installed (unpack ../shared/tools/crictl.gz there, or set BERTH_CRICTL)`;
  if (process.env["CI"] === "true") throw new Error(`CI=true: the crictl interop tests must run, but ${why}`);
  return why;
}
