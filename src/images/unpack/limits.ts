// The caps that bound what one hostile layer (and one hostile image) can make Berth spend, and
// the shape of an apply job as it crosses into an unpack worker (plain data: structured-cloned).

export interface ApplyLimits {
  /** Most tar entries in one layer (images.max_layer_entries). */
  maxEntries: number;
  /** Largest PAX or GNU long-name header, in bytes. tar-stream itself stops at 4 MiB. */
  maxHeaderBytes: number;
  /** Largest uncompressed tar, in bytes (images.max_layer_bytes). */
  maxBytes: number;
  /** Longest entry name, link name or symlink target, in bytes (PATH_MAX). */
  maxPathLength: number;
  /** Most inodes one layer may create, implicit parent directories and whiteouts included (images.max_layer_inodes). */
  maxInodes: number;
  /** Most extended attributes on one entry (images.max_xattrs_per_entry). */
  maxXattrsPerEntry: number;
  /** Most extended attributes in one layer (images.max_layer_xattrs). */
  maxXattrsPerLayer: number;
  /** Most bytes of xattr names and values in one layer: they are held until the layer's end. */
  maxXattrBytesPerLayer: number;
  /** Most device nodes and FIFOs in one layer (whiteouts not counted); one tar makes them. */
  maxDeviceNodes: number;
  /** A compressed layer that inflates past this ratio is refused (images.max_compression_ratio)... */
  maxCompressionRatio: number;
  /** ...once it has inflated past this many bytes (images.compression_ratio_floor). */
  compressionRatioFloor: number;
}

export const DEFAULT_APPLY_LIMITS: Readonly<ApplyLimits> = {
  maxEntries: 1_000_000,
  maxHeaderBytes: 1024 * 1024,
  maxBytes: 64 * 1024 ** 3,
  maxPathLength: 4096,
  maxInodes: 1_000_000,
  maxXattrsPerEntry: 128,
  maxXattrsPerLayer: 100_000,
  maxXattrBytesPerLayer: 64 * 1024 * 1024,
  maxDeviceNodes: 1024,
  maxCompressionRatio: 100,
  compressionRatioFloor: 512 * 1024 ** 2,
};

/** The config key that sets each configurable limit, for errors that say what to raise. */
export const LIMIT_KEYS = {
  maxEntries: "images.max_layer_entries",
  maxBytes: "images.max_layer_bytes",
  maxInodes: "images.max_layer_inodes",
  maxXattrsPerEntry: "images.max_xattrs_per_entry",
  maxXattrsPerLayer: "images.max_layer_xattrs",
  maxCompressionRatio: "images.max_compression_ratio",
  compressionRatioFloor: "images.compression_ratio_floor",
} as const;

/** What an image's layers add up to: bytes of the uncompressed tars, tar entries, inodes made. */
export interface Usage3 {
  bytes: number;
  entries: number;
  inodes: number;
}

/** The per-image budget: its totals, and what the layers below this one already used. */
export interface ImageBudget {
  /** images.max_image_bytes, images.max_image_entries, images.max_image_inodes. */
  max: Usage3;
  used: Usage3;
}

export const DEFAULT_IMAGE_MAX: Readonly<Usage3> = {
  bytes: 128 * 1024 ** 3,
  entries: 4_000_000,
  inodes: 4_000_000,
};

export const IMAGE_KEYS: Readonly<Record<keyof Usage3, string>> = {
  bytes: "images.max_image_bytes",
  entries: "images.max_image_entries",
  inodes: "images.max_image_inodes",
};

export interface ApplyJob {
  /** The layer's directory; created if missing. Fastest (no lstat) when it starts empty. */
  root: string;
  /** Lower layer directories, topmost first, for implicit parents' attributes. */
  lowers: string[];
  limits: ApplyLimits;
  /** The image's budget, when the layer is applied for an image. */
  image?: ImageBudget;
  /** Names the layer in budget errors: `layer 2 of 3 (sha256:…) of docker.io/library/x`. */
  what: string;
}

export interface ApplyResult {
  /** "sha256:<hex>" of the uncompressed tar: the layer's DiffID. */
  diffId: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** Tar entries. */
  entries: number;
  /** Inodes the layer made (files, directories, links' targets excluded, whiteouts, devices). */
  inodes: number;
}

/** What the applier reports besides the result: ignored oddities and processes it started. */
export interface ApplyStats {
  warnings: string[];
  /** Helper processes (mknod, tar, setfattr) the apply started: a few per layer, not per item. */
  spawns: number;
}
