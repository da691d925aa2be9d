// Kubernetes resource quantities ("500m", "1.5", "512Mi", "1G"). We only need to validate them and
// compare them against workspace limits, so they are parsed to a plain number of base units.

const QUANTITY = /^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function isQuantity(text: string): boolean {
  return QUANTITY.test(text);
}

/** The quantity in base units (cores, bytes); undefined when it is not a Kubernetes quantity. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, num, suffix = ''] = m;
  const base = Number(num);
  // "E" is exa and "Ei" exbi; only e/E followed by digits is an exponent ("1E3" is 1000, "1E" is 1e18).
  if (/^[eE][+-]?[0-9]+$/.test(suffix)) return base * 10 ** Number(suffix.slice(1));
  return base * (SUFFIX[suffix] ?? NaN);
}
