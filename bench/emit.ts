// The one way a benchmark reports a figure (`name: value unit` on stdout), on its own so the
// runner and the benchmarks it runs need not import each other.
export type Emit = (name: string, value: number, unit: string) => void;

export const emit: Emit = (name, value, unit) => process.stdout.write(`${name}: ${Number.isInteger(value) ? value : value.toFixed(2)} ${unit}\n`);
