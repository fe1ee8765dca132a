// Berth's own version and the CRI API version it serves, in one place for Version, the CLI
// and the logs.
export const BERTH_VERSION = "0.1.0";
export const RUNTIME_NAME = "berth";
export const CRI_API_VERSION = "v1";
