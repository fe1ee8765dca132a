// node:http without an ESM import: `import { x } from "node:http"` builds a namespace of every
// export, and reading http's lazy WebSocket/CloseEvent/MessageEvent getters loads undici and the web streams (+14 MiB RSS).
export const http: typeof import("node:http") = process.getBuiltinModule("node:http");
