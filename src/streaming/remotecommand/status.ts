// The end-of-session report on the error stream: v4 writes a metav1.Status JSON that client-go's
// errorDecoderV4 reads (Success, NonZeroExitCode with an ExitCode cause, InternalError); v1-v3 plain text.
import type { SessionResult } from "./session.js";

export function statusV4(result: SessionResult): string {
  if ("error" in result) {
    return JSON.stringify({
      metadata: {},
      status: "Failure",
      message: `Internal error occurred: ${result.error}`,
      reason: "InternalError",
      details: { causes: [{ message: result.error }] },
      code: 500,
    });
  }
  if (result.exitCode === 0) return JSON.stringify({ metadata: {}, status: "Success" });
  // client-go parses the cause as uint8; conmon reports 128+n for signals, so the code fits.
  const code = result.exitCode < 0 || result.exitCode > 255 ? 255 : result.exitCode;
  return JSON.stringify({
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: exit status ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  });
}

/** v1-v3: the error stream carries only an error text (nothing on success). */
export function statusText(result: SessionResult): string {
  if ("error" in result) return result.error;
  return result.exitCode === 0 ? "" : `command terminated with non-zero exit code: exit status ${result.exitCode}`;
}
