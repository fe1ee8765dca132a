// The wake-up state shared by an unpack worker's two layer inputs (chunks posted by the daemon,
// or a blob file read as it is written): ended, aborted, and one waiting consumer to wake.
export class FeedSignal {
  ended = false;
  aborted: string | null = null;
  #wake: (() => void) | null = null;

  end(): void {
    this.ended = true;
    this.poke();
  }
  abort(reason: string): void {
    this.aborted = reason;
    this.poke();
  }
  /** Wakes the consumer if it is waiting for more input. */
  poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
  /** Resolves at the next poke (new input, end or abort). */
  sleep(): Promise<void> {
    return new Promise<void>((r) => (this.#wake = r));
  }
  /** Throws once the daemon aborted this input. */
  check(): void {
    if (this.aborted !== null) throw new Error(`layer input failed: ${this.aborted}`);
  }
}
