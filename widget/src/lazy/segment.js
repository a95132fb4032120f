// The visitor's segment for results filters: traffic source and new/returning (device comes from the UA).
export function segment(v) {
  const u = v.utm || {}, ref = v.first_touch.referrer;
  let source = u.source ? u.source + (u.medium ? '/' + u.medium : '') : '';
  if (!source) try { source = ref ? new URL(ref).hostname : 'direct'; } catch (_) { source = 'direct'; }
  return { source, returning: v.sessions > 1 };
}
