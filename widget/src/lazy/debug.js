// retarget('debug'): a lazy chunk, so that pages that never ask do not download the explanations.
// The core passes its side `x` (src/core/engine.js: config, state, each campaign's status) and the visitor
// context; the rule functions come from the core too (x._rt, {decide, match, valueOf, contextOf} of
// src/core/rules.js: this file is bundled apart from the core, so importing rules.js here would ship a second
// copy of it).

/** @typedef {import('../core/engine.js').Core} Core */

const _json = (x) => JSON.stringify(x == null ? null : x);

// The first rule that excludes the visitor, walking the compiled tree `r` beside its source `src`:
// [path, kind, source rule, compiled leaf] with kind 0 an invalid rule, 1 an `any` that found nothing,
// 2 a `not` whose rule matched, 3 a failing leaf; null when the tree matches. `c` comes from rt.contextOf().
export function explain(r, src, c, rt, p = 'targeting') {
  if (r === true) return null;
  if (!r) return [p, 0];
  if (r.all) {
    for (let i = 0, w; i < r.all.length; i++) if ((w = explain(r.all[i], src.all[i], c, rt, `${p}.all[${i}]`))) return w;
    return null;
  }
  if (r.any) return r.any.some((x) => rt.match(x, c)) ? null : [p, 1, src];
  if ('not' in r) return rt.match(r.not, c) ? [p, 2] : null;
  return rt.match(r, c) ? null : [p, 3, src, r];
}

// The compiled targeting of a campaign (its `targeting` check is {not: targeting}), true when there is none.
const targetingOf = (campaign) => (campaign.checks.find((k) => k[0] == 'targeting') || [, , { not: true }])[2].not;

// The path of a decide() row's reason: 'targeting.all[1]', 'frequency.max_impressions' ...
export function pathOf(row, campaign, caps, c, rt) {
  if (row.reason == 'targeting') return explain(targetingOf(campaign), campaign.targeting, c, rt)[0];
  const check = campaign.checks.concat(caps).find((k) => k[0] == row.reason);
  return check ? check[1] : null;
}

// The sentence for an answer of explain().
export const whyText = ([, kind, r, l], c, rt) => [
  'invalid rule',
  `none of the ${Array.isArray((r || {}).any) ? r.any.length : 0} alternatives matched`,
  'the excluded condition matched',
  kind == 3 && `${r.attr} ${r.op} ${_json(r.value)} did not match (${r.attr} is ${_json(rt.valueOf(l, c))})`,
][kind];

/** @param {Core} x @param {object} context the visitor context the core built */
export function debug(x, context) {
  const config = x._cfg(), rt = x._rt, rows = rt.decide(config, context).campaigns, variants = x._state.data.variants;
  const con = console, c = rt.contextOf(context, config.site.tzo), byId = {}, required = config.site.consent.required;
  const status = (id) => (x._open.has(id) ? 'shown' : x._fired.has(id) ? 'fired' : x._armed.has(id) ? 'armed' : 'not armed');
  config.campaigns.forEach((k) => { byId[k.id] = k; });
  const why = (d) => {
    const k = byId[d.id], w = d.reason == 'targeting' && explain(targetingOf(k), k.targeting, c, rt);
    return `${w ? whyText(w, c, rt) : d.reason} (${pathOf(d, k, config.site.caps, c, rt)})`;
  };
  con.group('[retarget] debug');
  con.log('config version', config.version, '- consent', context.consent, required ? '(required)' : '');
  con.log('visitor', context.visitor);
  rows.forEach((d) => con.log(`campaign ${d.id}: ${status(d.id)}; variant ${variants[d.id]};`,
    d.armed ? 'eligible' : `not eligible: ${why(d)}`, d));
  con.log('context (paste into the admin\'s "Why not shown?" preview):', JSON.stringify(context));
  con.groupEnd();
}
