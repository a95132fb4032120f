// retarget('debug'): a lazy chunk, so that pages that never ask do not download the explanations.
// The core passes its side `x` (engine.js: config, state, each campaign's status) and the visitor context;
// the rule functions come from the core too (x._rt, {decide, match, valueOf, contextOf} of rules.js: this
// file is bundled apart from the core, so importing rules.js here would ship a second copy of it).

const _json = (x) => JSON.stringify(x == null ? null : x);

// The reason codes of rules.js decide(), in its order (1 is consent_required).
export const REASONS = [null, 'consent_required', 'consent_decided', 'schedule_invalid', 'not_started', 'ended', 'schedule_weekday', 'schedule_hours', 'targeting', 'cancelled', 'converted', 'closed', 'max_impressions', 'once_per_session', 'min_gap', 'no_variant', 'site_cap', 'site_gap'];

// Where each reason code points (docs/rules.md, "decide()"); targeting and an unreadable date are worked out.
const PATHS = {
  consent_required: 'site.consent.required', consent_decided: 'consent', not_started: 'starts_at', ended: 'ends_at',
  schedule_weekday: 'schedule.weekdays', schedule_hours: 'schedule.hours', cancelled: 'frequency.cancel_on',
  converted: 'frequency.stop_after_conversion', closed: 'frequency.stop_after_close', max_impressions: 'frequency.max_impressions',
  once_per_session: 'frequency.once_per_session', min_gap: 'frequency.min_gap_seconds', no_variant: 'variants',
  site_cap: 'site.cap.max_overlays_per_session', site_gap: 'site.cap.min_overlay_gap_seconds',
};

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

// The path of a decide() row's reason: 'targeting.all[1]', 'frequency.max_impressions' ...
export function pathOf(row, campaign, c, rt) {
  const why = REASONS[row.reason];
  return why == 'targeting' ? explain(campaign.rule, campaign.targeting, c, rt)[0]
    : why == 'schedule_invalid' ? (campaign.sched[0] === false ? 'starts_at' : 'ends_at') : PATHS[why] || null;
}

// The sentence for an answer of explain().
export const whyText = ([, kind, r, l], c, rt) => [
  'invalid rule',
  `none of the ${Array.isArray((r || {}).any) ? r.any.length : 0} alternatives matched`,
  'the excluded condition matched',
  kind == 3 && `${r.attr} ${r.op} ${_json(r.value)} did not match (${r.attr} is ${_json(rt.valueOf(l, c))})`,
][kind];

export function debug(x, context) {
  const config = x._cfg(), rt = x._rt, rows = rt.decide(config, context).campaigns, variants = x._state.data.variants;
  const con = console, c = rt.contextOf(context, config.site.tzo), byId = {}, required = x._consent().required;
  config.campaigns.forEach((k) => { byId[k.id] = k; });
  const why = (d) => {
    const k = byId[d.id], name = REASONS[d.reason], w = name == 'targeting' && explain(k.rule, k.targeting, c, rt);
    return `${w ? whyText(w, c, rt) : name} (${pathOf(d, k, c, rt)})`;
  };
  con.group('[retarget] debug');
  con.log('config version', config.version, '- consent', context.consent, required ? '(required)' : '');
  con.log('visitor', context.visitor);
  rows.forEach((d) => con.log(`campaign ${d.id}: ${x._status(d.id)}; variant ${variants[d.id]};`,
    d.armed ? 'eligible' : `not eligible: ${why(d)}`, d));
  con.log('context (paste into the admin\'s "Why not shown?" preview):', JSON.stringify(context));
  con.groupEnd();
}
