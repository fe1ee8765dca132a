// The dependency direction ARCHITECTURE.md describes, as a check `npm test` runs (`npm run depcheck`):
// server -> services (images, pods, containers, runtime) -> drivers (oci, network, store) -> util, errors, config, generated types.
/** @type {import('dependency-cruiser').IConfiguration} */
const SERVICES = "images|pods|containers|runtime";
const DRIVERS = "oci|network|store";
const ENTRIES = "server|daemon|cli";

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Two modules that import each other (even for types only) are one module in two files: move what both need to a third.",
      from: {},
      to: { circular: true },
    },
    {
      name: "src-not-to-test",
      severity: "error",
      comment: "Shipped code never imports test code; what only tests use lives under test/.",
      from: { path: "^src/" },
      to: { path: "^test/" },
    },
    {
      name: "drivers-not-to-services",
      severity: "error",
      comment: "Drivers (oci, network, store) talk to the OS; services call them, never the other way round. A driver that needs a service's data takes it as a parameter.",
      from: { path: `^src/(${DRIVERS})/` },
      to: { path: `^src/(${SERVICES}|${ENTRIES})/` },
    },
    {
      name: "services-not-to-entries",
      severity: "error",
      comment: "Services know nothing of gRPC wiring, the daemon or the CLI; those call them.",
      from: { path: `^src/(${SERVICES})/` },
      to: { path: `^src/(${ENTRIES})/` },
    },
    {
      name: "base-imports-nothing-above",
      severity: "error",
      comment: "util, errors, config, version and the generated CRI types are the floor every layer stands on: they import no layer.",
      from: { path: "^src/(util/|config/|generated/|errors\\.ts$|version\\.ts$)" },
      to: { path: `^src/(${SERVICES}|${DRIVERS}|${ENTRIES})/` },
    },
    {
      name: "images-imports-no-other-service",
      severity: "error",
      comment: "The image service is the lowest service: pods and containers use images, not the reverse.",
      from: { path: "^src/images/" },
      to: { path: "^src/(pods|containers|runtime)/" },
    },
    {
      name: "pods-not-to-containers",
      severity: "error",
      comment: "Containers live in pods, so containers/ may import pods/; pods reach containers only through the hooks they are handed.",
      from: { path: "^src/pods/" },
      to: { path: "^src/(containers|runtime)/" },
    },
    {
      name: "runtime-imports-no-other-service",
      severity: "error",
      comment: "runtime/ (Version, Status, config) reads drivers only.",
      from: { path: "^src/runtime/" },
      to: { path: "^src/(images|pods|containers)/" },
    },
    {
      name: "containers-not-to-runtime",
      severity: "error",
      from: { path: "^src/containers/" },
      to: { path: "^src/runtime/" },
    },
    {
      name: "services-do-not-read-config",
      severity: "error",
      comment: "Services and drivers get what they need from the daemon (src/daemon/, the one composition root), never Config itself.",
      from: { path: `^src/(${SERVICES}|${DRIVERS})/` },
      to: { path: "^src/config/config\\.ts$" },
    },
    {
      name: "containers-see-images-through-its-service",
      severity: "error",
      comment: "The container service reaches images only through ImageService (resolve, layer dirs); the image internals are the image service's own.",
      from: { path: "^src/containers/" },
      to: { path: "^src/images/", pathNot: "^src/images/service\\.ts$" },
    },
    {
      name: "containers-see-pods-through-its-surface",
      severity: "error",
      comment: "The container service reaches pods through PodService, the pod record and the pod's file layout (bind-mounted into containers).",
      from: { path: "^src/containers/" },
      to: { path: "^src/pods/", pathNot: "^src/pods/(service|record|files)\\.ts$" },
    },
    {
      name: "server-only-from-daemon",
      severity: "error",
      comment: "The gRPC wiring is built by the daemon and nothing else.",
      from: { path: "^src/", pathNot: "^src/(server|daemon)/" },
      to: { path: "^src/server/" },
    },
    {
      name: "daemon-only-from-main",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(daemon/|main\\.ts$)" },
      to: { path: "^src/daemon/" },
    },
    {
      name: "cli-only-from-main",
      severity: "error",
      comment: "The CLI is a client of the daemon's socket; nothing in the daemon imports it.",
      from: { path: "^src/", pathNot: "^src/(cli/|main\\.ts$)" },
      to: { path: "^src/cli/" },
    },
    {
      name: "cli-not-to-daemon-or-server",
      severity: "error",
      comment: "The CLI reaches the daemon over gRPC or its state sockets, never by importing its code.",
      from: { path: "^src/cli/" },
      to: { path: "^src/(server|daemon)/" },
    },
    {
      name: "grpc-only-at-the-edge",
      severity: "error",
      comment:
        "Services and drivers throw error kinds (src/errors.ts); only the edges speak gRPC: the server (and src/server/status.ts maps kinds), the daemon that builds it, the CLI client, and the call observers that record gRPC codes.",
      from: { path: "^src/", pathNot: "^src/(server|daemon|cli|metrics|trace|generated)/|^src/util/call-observer\\.ts$" },
      to: { path: "@grpc/grpc-js" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a cycle or an upward import through types is still a coupling.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
