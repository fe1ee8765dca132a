// Pod records in the SQLite `pods` table (id, JSON data): written on every change, read once at
// start to rebuild the in-memory index that List and Status serve from.
import type { StatementSync } from "node:sqlite";
import type { Store } from "../store/db.js";
import { logger } from "../util/log.js";
import type { PodRecord } from "./record.js";

const log = logger("pods-store");

export class PodStore {
  private readonly upsert: StatementSync;
  private readonly del: StatementSync;

  constructor(private readonly store: Store) {
    this.upsert = store.db.prepare("INSERT INTO pods (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data");
    this.del = store.db.prepare("DELETE FROM pods WHERE id = ?");
  }

  all(): PodRecord[] {
    const rows = this.store.db.prepare("SELECT id, data FROM pods").all() as Array<{ id: string; data: string }>;
    const out: PodRecord[] = [];
    for (const r of rows) {
      try {
        const rec = JSON.parse(r.data) as PodRecord;
        if (rec.v !== 1 || rec.id !== r.id) throw new Error(`unknown record version ${String(rec.v)}`);
        out.push(rec);
      } catch (err) {
        // One unreadable row must not take every other pod down with it.
        log.error({ id: r.id, err: (err as Error).message }, "skipping unreadable pod record");
      }
    }
    return out;
  }

  /** Every recorded id, unreadable rows included (their resources are still theirs). */
  ids(): Set<string> {
    return new Set((this.store.db.prepare("SELECT id FROM pods").all() as Array<{ id: string }>).map((r) => r.id));
  }

  put(rec: PodRecord): void {
    this.upsert.run(rec.id, JSON.stringify(rec));
  }

  delete(id: string): void {
    this.del.run(id);
  }
}
