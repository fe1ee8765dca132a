// The span facade every module calls around a step worth tracing (a CRI call, a pull, an unpack,
// a CNI plugin, a runc verb). With tracing off it is a no-op: no OpenTelemetry code is loaded.
export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanHandle {
  setAttribute(key: string, value: string | number | boolean): void;
  /** Runs fn with this span as the parent of spans started inside it (sync or async). */
  run<T>(fn: () => T): T;
  /** Ends the span; an error marks it failed. Later calls do nothing. */
  end(error?: unknown): void;
}

/** What the OpenTelemetry backend (src/trace/otel.ts) provides once tracing is on. */
export interface TraceBackend {
  start(name: string, attributes: SpanAttributes): SpanHandle;
  shutdown(): Promise<void>;
}

const NOOP: SpanHandle = {
  setAttribute: () => undefined,
  run: (fn) => fn(),
  end: () => undefined,
};

let backend: TraceBackend | undefined;

export function setTraceBackend(b: TraceBackend | undefined): void {
  backend = b;
}

export function tracing(): boolean {
  return backend !== undefined;
}

/** A span the caller ends itself (for steps that are not one function call). */
export function startSpan(name: string, attributes: SpanAttributes = {}): SpanHandle {
  return backend ? backend.start(name, attributes) : NOOP;
}

/** Runs fn inside a span that ends when fn's promise settles, failed if it rejects. */
export function withSpan<T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>): Promise<T> {
  if (!backend) return fn();
  const s = backend.start(name, attributes);
  return s.run(fn).then(
    (v) => {
      s.end();
      return v;
    },
    (err: unknown) => {
      s.end(err);
      throw err;
    },
  );
}
