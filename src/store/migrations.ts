// The metadata schema as an ordered list of forward migrations. A migration is never edited
// once released: a change is a new entry, applied in a transaction at start-up.
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "pods, containers and images as JSON records keyed by id",
    sql: `
      CREATE TABLE pods (id TEXT PRIMARY KEY, data TEXT NOT NULL);
      CREATE TABLE containers (id TEXT PRIMARY KEY, pod_id TEXT NOT NULL, data TEXT NOT NULL);
      CREATE INDEX containers_pod ON containers(pod_id);
      CREATE TABLE images (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    description: "image layers: one unpacked directory per ChainID, shared by every image that has it",
    sql: `
      CREATE TABLE layers (chain_id TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
    `,
  },
];
