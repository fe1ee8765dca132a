// `berth image import FILE` and `berth image export IMAGE FILE` (placeholder until the daemon side lands).
import type { CriClient } from "../client.js";
import type { ClientArgs } from "./images.js";

export async function importCommand(_c: CriClient, _a: ClientArgs, _timeoutMs: number): Promise<void> {
  throw new Error("berth image import: not implemented yet");
}

export async function exportCommand(_c: CriClient, _a: ClientArgs, _timeoutMs: number): Promise<void> {
  throw new Error("berth image export: not implemented yet");
}
