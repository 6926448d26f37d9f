// Small pieces the scale harness shares with bench/scale.ts, kept apart from bench/lib.ts, which loads the
// worker and most of src/ when imported: the harness runs the CLI from a built copy and loads next to nothing of
// src/ itself (src/ may be mid-edit while a long run goes on). Not part of the test suite.
import { join } from 'node:path';

/** The repository root. */
export const root = join(__dirname, '..');

/** The value after `--name`, or the fallback. */
export function strArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** The value after `--name`, as a number, or the fallback. */
export function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number, got ${process.argv[i + 1] ?? '(nothing)'}`);
  return v;
}

/** Whether `--name` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
