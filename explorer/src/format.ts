// Formatting: amounts in minor units with a scale (never floating point), times, hex.

/** `"150000000"` at scale 2 → `"1,500,000.00"`. */
export function amount(minor: string | bigint, scale: number): string {
  let v = BigInt(minor);
  const negative = v < 0n;
  if (negative) v = -v;
  const s = v.toString().padStart(scale + 1, "0");
  const whole = s.slice(0, s.length - scale).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const frac = scale > 0 ? `.${s.slice(s.length - scale)}` : "";
  return `${negative ? "-" : ""}${whole}${frac}`;
}

/** `2026-11-24 03:14:05 UTC` from ms since the epoch. */
export function time(ms: number | bigint): string {
  const d = new Date(Number(ms));
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

/** The first and last characters of a long hex string. */
export function short(hex: string, keep = 8): string {
  return hex.length > 2 * keep + 1 ? `${hex.slice(0, keep)}…${hex.slice(-4)}` : hex;
}

/** A rate with one decimal, from integer milli-units (no floats in amounts; rates are display only). */
export function perSecond(count: number, windowMs: number): string {
  if (windowMs <= 0) return "–";
  const milli = Math.round((count * 1_000_000) / windowMs);
  return `${Math.floor(milli / 1000)}.${String(Math.floor((milli % 1000) / 100))}`;
}

export function ms(v: number): string {
  return `${Math.round(v)} ms`;
}

/**
 * `num / den` as a decimal with at most `digits` decimals (exact integers, no floats):
 * `"≈"` marks a truncated expansion. `fraction(59n, 500000n, 6)` → `"0.000118"`.
 */
export function fraction(num: bigint, den: bigint, digits = 6): string {
  if (den === 0n) return "–";
  const negative = num < 0n !== den < 0n && num !== 0n;
  const n = num < 0n ? -num : num;
  const d = den < 0n ? -den : den;
  const scaled = (n * 10n ** BigInt(digits)) / d;
  const exact = (n * 10n ** BigInt(digits)) % d === 0n;
  let s = amount(scaled, digits);
  if (digits > 0) s = s.replace(/\.?0+$/, "");
  return `${exact ? "" : "≈"}${negative ? "-" : ""}${s}`;
}

/** A percentage the API wrote as a plain decimal (`"84.62"`) or with its sign (`"4.25%"`). */
export function pct(v: string): string {
  return v.endsWith("%") ? v : `${v}%`;
}
