// A bad command line (exit code 2), in its own file so the entry point and the flag parser can
// name it without loading the output formatters (and their YAML library) into the daemon.
export class UsageError extends Error {
  override name = "UsageError";
}
