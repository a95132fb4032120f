// Goals: a conversion counts only after an impression, so the goal checks load with the show path (the core only
// asks whether a shown campaign has a goal of the type before it loads them).
import { record } from './history.js';

/** @typedef {import('../core/engine.js').Core} Core */

// A conversion for a campaign whose goal it is, once per impression within the attribution window.
// `test` for the goals that need one: url (its compiled rule on this page), event (its name).
/** @param {Core} x @param {object} c the campaign @param {string} type @param {?Function} [test] */
export function goal(x, c, type, test) {
  const g = c.goal || {}, s = x._state, h = s.data.history[c.id] || {}, last = (k) => (h[k] || []).slice(-1)[0];
  const shown = last('impressions');
  if (g.type != type || !shown || last('conversions') >= shown || (test && !test(g))
    || Date.now() - shown > (g.attribution_days || 7) * 864e5) return;
  record(s, c.id, 'conversions');
  x._notify('convert', { campaign: c.id, variant: s.data.variants[c.id], type: c.type, goal: type });
}

// A goal reached on this page (url), by a tracked event (event, purchase): the core calls this only when a shown
// campaign has a goal of that type.
/** @param {Core} x @param {'url'|'event'|'purchase'} type @param {string} [name] the event's */
export function goals(x, type, name) {
  const cfg = x._cfg(), rt = x._rt;
  let ctx; // built only if a campaign has a url goal
  const test = type == 'url' ? (g) => g.rule && rt.match(g.rule, ctx || (ctx = rt.contextOf(x._context(), cfg.site.tzo)))
    : type == 'event' ? (g) => g.event === name : null;
  cfg.campaigns.forEach((c) => goal(x, c, type, test));
}
