// The visitor's segment for the results' filters (docs/contracts.md): traffic source, new or returning, and the
// device the core classified (src/core/device.js), which sees what the User-Agent alone does not (an iPad asking
// for desktop pages).
export function segment(v, device) {
  const u = v.utm || {}, ref = v.first_touch.referrer;
  let source = u.source ? u.source + (u.medium ? '/' + u.medium : '') : '';
  if (!source) try { source = ref ? new URL(ref).hostname : 'direct'; } catch (_) { source = 'direct'; }
  return { source, returning: v.sessions > 1, device };
}
