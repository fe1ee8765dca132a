// Berth's metadata database: SQLite (node:sqlite) in WAL mode, one file under the root dir,
// schema migrated forward at open. Callers write in transactions through `tx`.
import { DatabaseSync } from "node:sqlite";
import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { MIGRATIONS, type Migration } from "./migrations.js";
import { logger } from "../util/log.js";

const log = logger("store");

export class StoreError extends Error {
  override name = "StoreError";
}

export class Store {
  readonly db: DatabaseSync;
  readonly path: string;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  static open(path: string, migrations: readonly Migration[] = MIGRATIONS): Store {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Owner-only (it holds every container's env, secrets included); SQLite gives its -wal and
    // -shm files the database file's mode.
    closeSync(openSync(path, "a", 0o600));
    chmodSync(path, 0o600);
    const db = new DatabaseSync(path);
    try {
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
      const store = new Store(path, db);
      store.migrate(migrations);
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The schema version recorded in the database (0 for a new file). */
  schemaVersion(): number {
    const row = this.db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
    return row?.user_version ?? 0;
  }

  private migrate(migrations: readonly Migration[]): void {
    const current = this.schemaVersion();
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new StoreError(
        `database ${this.path} has schema version ${current}, newer than this Berth knows (${newest}); ` +
          `run a newer Berth or restore a backup`,
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      this.tx(() => {
        this.db.exec(m.sql);
        this.db.exec(`PRAGMA user_version = ${m.version}`);
      });
      log.info({ version: m.version, description: m.description }, "store migrated");
    }
  }

  /** Runs fn in one transaction: all of its writes land, or none do. */
  tx<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
