/** A 32-bit FNV-1a hash of a string, the root of every derived seed. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// Bound once: a global lookup (Math.imul) in a hot loop is tens of times slower inside a vm sandbox such
// as Temporal's workflow isolate.
const { imul } = Math;

/** A seeded generator of floats in [0, 1) (mulberry32): small, fast and the same on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The integer in [0, n) drawn from a generator. */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
