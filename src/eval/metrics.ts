/** Output comparisons (docs/design.md#errors): relL2 = ‖y − ŷ‖₂/‖y‖₂; PSNR states its data range. */

export interface OutputComparison {
  maxAbsDiff: number;
  relL2: number;
  /** PSNR of ŷ against y over `dataRange` (peak value); Infinity when identical. */
  psnrDb: number;
  dataRange: number;
}

export function compareOutputs(reference: ArrayLike<number>, approx: ArrayLike<number>, dataRange = 255): OutputComparison {
  if (reference.length !== approx.length) throw new Error(`cannot compare outputs of ${reference.length} and ${approx.length} values`);
  let maxAbs = 0;
  let se = 0;
  let ref2 = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = reference[i] - approx[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
    se += d * d;
    ref2 += reference[i] * reference[i];
  }
  const mse = se / Math.max(reference.length, 1);
  return {
    maxAbsDiff: maxAbs,
    relL2: ref2 === 0 ? (se === 0 ? 0 : Infinity) : Math.sqrt(se / ref2),
    psnrDb: psnr(mse, dataRange),
    dataRange,
  };
}

export function psnr(mse: number, dataRange: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / mse);
}

export function relL2(reference: ArrayLike<number>, approx: ArrayLike<number>): number {
  return compareOutputs(reference, approx, 1).relL2;
}

/**
 * The data range PSNR is stated over when none is given: 255 for outputs that look like 8-bit
 * images (peak-to-peak in (100, 400]), else the reference output's peak-to-peak range.
 */
export function peakRange(reference: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < reference.length; i++) {
    if (reference[i] < lo) lo = reference[i];
    if (reference[i] > hi) hi = reference[i];
  }
  const r = hi - lo;
  return r > 100 && r <= 400 ? 255 : r > 0 ? r : 1;
}
