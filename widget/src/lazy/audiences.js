// Audiences (docs/rules.md "Audiences"; docs/contracts.md, `site.aud`): loaded by sites with page groups or
// audiences, and run by the core before each page view is sent and decided on. The page's group (the first whose
// rule matches its path, as the journey map groups pages) counts a view and marks its stage reached in the
// visitor's state; then the site's audiences are evaluated on that state, and the ids the visitor is in go out with
// the page view, so the daily audience counts come from the same evaluation as the targeting (which runs the same
// rules, compiled into it).
// The core's hook for each page view: `data` is the page view's, sent once this returns.
export function pageview(x, data) {
  const site = x._cfg().site, { groups, audiences: list } = site.aud, rt = x._rt;
  const now = () => rt.contextOf(x._context(), site.tzo);
  const c = now(), g = groups.find((r) => rt.match(r[1], c));
  if (g) x._state._mut((d) => {
    const v = d.groups || (d.groups = {}), s = d.stages || (d.stages = []);
    v[g[0]] = (v[g[0]] || 0) + 1;
    if (g[2] && !s.includes(g[2])) s.push(g[2]);
  });
  data.audiences = matched(list, rt.match, now());
}

// The ids of the audiences ([[id, compiled rule], ...]) a context of contextOf() matches.
export const matched = (audiences, match, c) => audiences.filter((a) => match(a[1], c)).map((a) => a[0]);
