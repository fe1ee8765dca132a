// The caps that bound what one hostile layer can make Berth spend, and the shape of an apply
// job as it crosses into an unpack worker (plain data only: it is structured-cloned).

export interface ApplyLimits {
  /** Most tar entries in one layer. */
  maxEntries: number;
  /** Largest PAX or GNU long-name header, in bytes. tar-stream itself stops at 4 MiB. */
  maxHeaderBytes: number;
  /** Largest uncompressed tar, in bytes. */
  maxBytes: number;
  /** Longest entry name, link name or symlink target, in bytes (PATH_MAX). */
  maxPathLength: number;
}

export const DEFAULT_APPLY_LIMITS: Readonly<ApplyLimits> = {
  maxEntries: 1_000_000,
  maxHeaderBytes: 1024 * 1024,
  maxBytes: 64 * 1024 ** 3,
  maxPathLength: 4096,
};

export interface ApplyJob {
  /** The layer's directory; created if missing. Fastest (no lstat) when it starts empty. */
  root: string;
  /** Lower layer directories, topmost first, for implicit parents' attributes. */
  lowers: string[];
  limits: ApplyLimits;
}

export interface ApplyResult {
  /** "sha256:<hex>" of the uncompressed tar: the layer's DiffID. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
}

/** What the applier reports besides the result: counts for logs, and ignored oddities. */
export interface ApplyStats {
  entries: number;
  warnings: string[];
}
