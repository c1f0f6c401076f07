// Comparing two flat gradient arrays variable by variable (the direct step's tests against the tape's).

/** Largest |a − b| of each variable relative to that variable's largest |a| (at least 1e-6), the worst of them. */
export function worstRelative(a: Float32Array, b: Float32Array, offsets: number[]): number {
  let worst = 0;
  offsets.forEach((start, i) => {
    const end = offsets[i + 1] ?? a.length;
    let scale = 1e-6, diff = 0;
    for (let j = start; j < end; j++) {
      scale = Math.max(scale, Math.abs(a[j]!));
      diff = Math.max(diff, Math.abs(a[j]! - b[j]!));
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}
