/**
 * Formats a number with a fixed number of decimals, rounding the exact binary value half to even.
 * This is how Python's `f"{x:.4f}"` rounds, so 13/32 prints as 0.4062 exactly as in the research note
 * (JavaScript's toFixed would print 0.4063).
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  const negative = x < 0 || Object.is(x, -0);
  // toFixed(100) is exact for |x| < 1e21: every digit of the double's decimal expansion.
  const exact = Math.abs(x).toFixed(100);
  const [intPart, frac] = exact.split('.') as [string, string];
  const kept = frac.slice(0, digits);
  const rest = frac.slice(digits);
  let roundUp = false;
  if (rest[0]! > '5') roundUp = true;
  else if (rest[0] === '5') {
    const tailNonZero = /[1-9]/.test(rest.slice(1));
    const lastKept = digits > 0 ? kept[kept.length - 1]! : intPart[intPart.length - 1]!;
    roundUp = tailNonZero || Number(lastKept) % 2 === 1;
  }
  let digitsStr = intPart + kept;
  if (roundUp) {
    const arr = digitsStr.split('').map(Number);
    let i = arr.length - 1;
    while (i >= 0) {
      if (arr[i]! < 9) { arr[i]! += 1; break; }
      arr[i] = 0;
      i--;
    }
    digitsStr = (i < 0 ? '1' : '') + arr.join('');
  }
  const intLen = digitsStr.length - digits;
  const body = digits > 0 ? `${digitsStr.slice(0, intLen)}.${digitsStr.slice(intLen)}` : digitsStr;
  return (negative ? '-' : '') + body;
}

/** A rate or a reward, as reports show it: 4 decimals. */
export function formatRate(x: number | null): string {
  return x === null ? 'n/a' : formatFixed(x, 4);
}

/** A signed difference, as the sensitivity table shows it: `+0.1016`, `-0.0234`. */
export function formatSigned(x: number | null): string {
  if (x === null) return 'n/a';
  const s = formatFixed(x, 4);
  return s.startsWith('-') ? s : `+${s}`;
}

/** A word count average, as reports show it: 1 decimal. */
export function formatWords(x: number | null): string {
  return x === null ? 'n/a' : formatFixed(x, 1);
}
