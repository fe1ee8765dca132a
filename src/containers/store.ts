// Container records in the SQLite `containers` table (id, pod_id, JSON data): written on every
// change, read once at start to rebuild the in-memory index List and Status serve from.
import type { StatementSync } from "node:sqlite";
import type { Store } from "../store/db.js";
import { logger } from "../util/log.js";
import type { ContainerRecord } from "./record.js";

const log = logger("containers-store");

export class ContainerStore {
  private readonly upsert: StatementSync;
  private readonly del: StatementSync;

  constructor(private readonly store: Store) {
    this.upsert = store.db.prepare(
      "INSERT INTO containers (id, pod_id, data) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET pod_id = excluded.pod_id, data = excluded.data",
    );
    this.del = store.db.prepare("DELETE FROM containers WHERE id = ?");
  }

  all(): ContainerRecord[] {
    const rows = this.store.db.prepare("SELECT id, data FROM containers").all() as Array<{ id: string; data: string }>;
    const out: ContainerRecord[] = [];
    for (const r of rows) {
      try {
        const rec = JSON.parse(r.data) as ContainerRecord;
        if (rec.v !== 1 || rec.id !== r.id) throw new Error(`unknown record version ${String(rec.v)}`);
        out.push(rec);
      } catch (err) {
        // One unreadable row must not take every other container down with it.
        log.error({ id: r.id, err: (err as Error).message }, "skipping unreadable container record");
      }
    }
    return out;
  }

  put(rec: ContainerRecord): void {
    this.upsert.run(rec.id, rec.podId, JSON.stringify(rec));
  }

  delete(id: string): void {
    this.del.run(id);
  }
}
