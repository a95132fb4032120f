// Deterministic variant bucketing: the same algorithm as campaigns/assignment.py
// (docs/contracts.md, "Variant bucketing"; cases in tests/conformance/bucketing.json).
const _enc = new TextEncoder();
const _num = (x) => typeof x == 'number' && x == x;

export function fnv1a32(s) {
  let h = 2166136261;
  for (const b of typeof s == 'string' ? _enc.encode(s) : s) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

// -> {holdout, index}: index in config order, null for the holdout or when no weight is positive.
export function assign(campaignId, visitorId, controlShare, weights) {
  const h = fnv1a32(campaignId + ':' + visitorId) / 4294967296;
  const s = _num(controlShare) ? controlShare : 0;
  if (h < s) return { holdout: true, index: null };
  const pos = [];
  let total = 0, cum = 0;
  (weights || []).forEach((w, i) => { if (_num(w) && w > 0) { pos.push([i, w]); total += w; } });
  if (!pos.length) return { holdout: false, index: null };
  const u = s > 0 ? (h - s) / (1 - s) : h;
  for (const [i, w] of pos) if (u < (cum += w / total)) return { holdout: false, index: i };
  return { holdout: false, index: pos[pos.length - 1][0] };
}
