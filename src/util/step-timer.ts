// Per-step durations for an operation's debug line ({ rootfs: 4.2, spec: 1.1, total: 9.8 } in ms,
// one decimal) and their start/end offsets, so the steps themselves carry no clock arithmetic.
export interface StepTimer {
  /** Runs one step and records how long it took under `name` (only when it succeeds). */
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** The same for a synchronous step (a store write), without yielding to the event loop. */
  stepSync<T>(name: string, fn: () => T): T;
  /** The recorded steps plus `total` since the timer was made. */
  done(): Record<string, number>;
  /** Each recorded step's [start, end] offsets (ms since the timer was made): what overlapped and what waited. */
  spans(): Record<string, [number, number]>;
}

const since = (t: number): number => Math.round((performance.now() - t) * 10) / 10;

export function stepTimer(): StepTimer {
  const t0 = performance.now();
  const ms: Record<string, number> = {};
  const at: Record<string, [number, number]> = {};
  return {
    async step(name, fn) {
      const t = performance.now();
      const result = await fn();
      ms[name] = since(t);
      at[name] = [Math.round((t - t0) * 10) / 10, since(t0)];
      return result;
    },
    stepSync(name, fn) {
      const t = performance.now();
      const result = fn();
      ms[name] = since(t);
      at[name] = [Math.round((t - t0) * 10) / 10, since(t0)];
      return result;
    },
    done: () => ({ ...ms, total: since(t0) }),
    spans: () => ({ ...at }),
  };
}
