// Every configuration key in one table: its TOML path, type, default and meaning. Parsing,
// validation, `berth config default` and the README all come from this table, so they agree.
import { LOG_LEVELS } from "../util/log.js";

export type KeyType =
  | { kind: "string" }
  | { kind: "path" }
  | { kind: "paths" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "address" }
  | { kind: "int"; min: number; max: number }
  | { kind: "duration" }
  | { kind: "handlers" }
  | { kind: "bool" };

export interface KeySpec {
  path: string;
  type: KeyType;
  default: string | number | boolean | readonly string[] | Readonly<Record<string, never>>;
  doc: string;
}

export const KEYS: readonly KeySpec[] = [
  { path: "root", type: { kind: "path" }, default: "/var/lib/berth", doc: "Persistent state: the metadata database, image content and layers." },
  { path: "state", type: { kind: "path" }, default: "/run/berth", doc: "Runtime state that does not survive a reboot: bundles, namespace pins, exit files." },
  { path: "socket", type: { kind: "path" }, default: "/run/berth/berth.sock", doc: "The CRI gRPC unix socket (mode 0660). kubelet: --container-runtime-endpoint=unix://<socket>." },
  { path: "log.level", type: { kind: "enum", values: LOG_LEVELS }, default: "info", doc: "Log level; debug logs every CRI call with its duration." },
  { path: "registry.config_path", type: { kind: "path" }, default: "/etc/berth/certs.d", doc: "containerd's hosts.toml layout: <config_path>/<host>/hosts.toml (mirrors, CAs, plain http)." },
  { path: "registry.registries_conf", type: { kind: "path" }, default: "/etc/containers/registries.conf", doc: "containers-registries.conf(5): mirrors, insecure, blocked, short-name aliases." },
  { path: "registry.max_concurrent_downloads", type: { kind: "int", min: 1, max: 64 }, default: 3, doc: "Layers of one image downloaded in parallel." },
  { path: "registry.stall_timeout", type: { kind: "duration" }, default: "30s", doc: "A layer download that receives no bytes for this long fails with DeadlineExceeded." },
  { path: "registry.document_deadline", type: { kind: "duration" }, default: "120s", doc: "A manifest, image config, token or error body must arrive whole within this long, or the pull fails with DeadlineExceeded." },
  { path: "images.sandbox_image", type: { kind: "string" }, default: "", doc: "Image kept pinned for pods that need an infra process; empty: Berth's built-in minimal rootfs." },
  { path: "images.max_layer_bytes", type: { kind: "int", min: 1 << 20, max: 2 ** 50 }, default: 64 * 1024 ** 3, doc: "Budget: bytes one layer may unpack to (its uncompressed tar)." },
  { path: "images.max_image_bytes", type: { kind: "int", min: 1 << 20, max: 2 ** 50 }, default: 128 * 1024 ** 3, doc: "Budget: bytes all layers of one image may unpack to." },
  { path: "images.max_layer_entries", type: { kind: "int", min: 1, max: 1e9 }, default: 1_000_000, doc: "Budget: tar entries in one layer." },
  { path: "images.max_image_entries", type: { kind: "int", min: 1, max: 1e9 }, default: 4_000_000, doc: "Budget: tar entries in all layers of one image." },
  { path: "images.max_layer_inodes", type: { kind: "int", min: 1, max: 1e9 }, default: 1_000_000, doc: "Budget: inodes one layer may make (implicit parent directories and whiteouts count)." },
  { path: "images.max_image_inodes", type: { kind: "int", min: 1, max: 1e9 }, default: 4_000_000, doc: "Budget: inodes all layers of one image may make." },
  { path: "images.max_compression_ratio", type: { kind: "int", min: 2, max: 1e9 }, default: 100, doc: "A compressed layer inflating past this many bytes per compressed byte, once past images.compression_ratio_floor, is refused as it streams (a decompression bomb)." },
  { path: "images.compression_ratio_floor", type: { kind: "int", min: 0, max: 2 ** 50 }, default: 512 * 1024 ** 2, doc: "Uncompressed bytes a layer may reach before images.max_compression_ratio applies to it." },
  { path: "images.max_xattrs_per_entry", type: { kind: "int", min: 1, max: 1e6 }, default: 128, doc: "Extended attributes one layer entry may carry." },
  { path: "images.max_layer_xattrs", type: { kind: "int", min: 1, max: 1e9 }, default: 100_000, doc: "Extended attributes one layer may set." },
  { path: "images.gc_interval", type: { kind: "duration" }, default: "1h", doc: "How often garbage is collected: unreferenced layers and blobs, abandoned downloads, directories of removed containers, CNI cache entries and Berth-made log directories of pods that are gone (also at start and after RemoveImage); \"0s\" disables the schedule." },
  { path: "images.sync", type: { kind: "bool" }, default: true, doc: "fsync blobs and layers before an image record commits (crash-consistent); false trades that for faster pulls." },
  { path: "network.conf_dir", type: { kind: "path" }, default: "/etc/cni/net.d", doc: "CNI network configurations; the first by name is used. Watched: no restart needed." },
  { path: "network.bin_dirs", type: { kind: "paths" }, default: ["/usr/lib/cni", "/opt/cni/bin"], doc: "Where CNI plugin binaries are looked up, in order." },
  { path: "runtime.default_handler", type: { kind: "string" }, default: "runc", doc: "The OCI runtime handler used when a pod names none." },
  { path: "runtime.cgroup_driver", type: { kind: "enum", values: ["", "cgroupfs", "systemd"] }, default: "", doc: "cgroupfs or systemd; empty: detect from the host (systemd when it is PID 1)." },
  { path: "runtime.runc_path", type: { kind: "string" }, default: "runc", doc: "The runc binary (name on PATH or absolute path)." },
  { path: "runtime.handlers", type: { kind: "handlers" }, default: {}, doc: "Runtime handlers (RuntimeClass handler names): [runtime.handlers.NAME] with runtime_path, runtime_root, options (extra global flags). runc is always one, crun when on PATH; each is probed at start." },
  { path: "runtime.conmon_path", type: { kind: "string" }, default: "conmon", doc: "The conmon binary (name on PATH or absolute path)." },
  { path: "cdi.spec_dirs", type: { kind: "paths" }, default: ["/etc/cdi", "/var/run/cdi"], doc: "CDI spec directories (JSON and YAML), read when a container asks for CDI devices; a later directory overrides an earlier one." },
  { path: "pods.shm_size", type: { kind: "int", min: 1 << 20, max: 2 ** 40 }, default: 64 * 1024 * 1024, doc: "Size in bytes of each pod's /dev/shm tmpfs." },
  { path: "pods.cgroup_parent", type: { kind: "string" }, default: "", doc: "Where pod cgroups go when a pod names no cgroup_parent: a path (cgroupfs) or a slice (systemd); empty: /berth or berth.slice." },
  { path: "streaming.address", type: { kind: "address" }, default: "127.0.0.1:0", doc: "Listen address of the exec/attach/port-forward server; port 0 picks a free port; empty disables it." },
  { path: "streaming.tls_cert", type: { kind: "string" }, default: "", doc: "PEM certificate (absolute path) for the streaming server; empty: plain http. Needs streaming.tls_key." },
  { path: "streaming.tls_key", type: { kind: "string" }, default: "", doc: "PEM private key (absolute path) for streaming.tls_cert." },
  { path: "streaming.tls_client_ca", type: { kind: "string" }, default: "", doc: "PEM CA bundle (absolute path): with TLS, clients must present a certificate it signed." },
  { path: "streaming.idle_timeout", type: { kind: "duration" }, default: "4h", doc: "A streaming connection with no traffic for this long is closed." },
  { path: "streaming.token_ttl", type: { kind: "duration" }, default: "1m", doc: "How long an Exec/Attach/PortForward URL stays valid (single use)." },
  { path: "streaming.max_sessions", type: { kind: "int", min: 1, max: 100000 }, default: 256, doc: "Streaming connections served at once; more get 503." },
  { path: "events.queue_size", type: { kind: "int", min: 16, max: 1_000_000 }, default: 1024, doc: "Events one GetContainerEvents subscriber may have queued; a subscriber that falls this far behind is cut off (RESOURCE_EXHAUSTED) and must re-list." },
  { path: "metrics.address", type: { kind: "address" }, default: "127.0.0.1:9464", doc: "Listen address of the Prometheus /metrics endpoint; empty disables it." },
];

export function keySpec(path: string): KeySpec | undefined {
  return KEYS.find((k) => k.path === path);
}

/** `BERTH_LOG_LEVEL` for `log.level`: the environment override of a key. */
export function envName(path: string): string {
  return "BERTH_" + path.toUpperCase().replace(/\./g, "_");
}
