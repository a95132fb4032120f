// The show path, loaded with the renderers (render-all.<hash>.js) since it only runs once a campaign is
// about to show: which of the campaigns fired together shows, the renderer's api, the impression and its
// bookkeeping (./history.js). What a shown message leads to has a file each: goals (./goals.js) and the
// visitor's consent choice (./consent_set.js); the segment events carry is ./segment.js.
import { rendererOf } from '../render/renderers.js';
import { record, overlayShown, exposedFirst } from './history.js';
import { goal } from './goals.js';
import { segment } from './segment.js';
import { consentSet } from './consent_set.js';
import { langOf, langLoad, T } from './lang.js';
import { band } from '../render/nps.js';

/** @typedef {import('../core/engine.js').Core} Core */

const overlayOpen = (open) => [...open.values()].some((m) => m._overlay && m.el.isConnected);

// Campaigns fired in the same tick compete: the first in priority order (the config's) wins the overlay
// slot, if no overlay is open and the site cap allows it. A holdout visitor sends `exposure` instead.
// The tables of their languages are loaded first.
/** @param {Core} x @param {object[]} fired the campaigns fired in this tick */
export async function resolve(x, fired) {
  const cfg = x._cfg();
  await Promise.all(fired.map((c) => langLoad(langOf(c, cfg.site))));
  const ctx = x._context(), ok = x._eligible(ctx), open = x._open, rt = x._rt;
  const capped = () => cfg.site.caps.some((k) => rt.match(k[2], rt.contextOf(ctx)));
  cfg.campaigns.filter((c) => fired.includes(c)).forEach((c) => {
    if (!ok.has(c.id) || open.has(c.id)) return;
    const v = x._variantOf(c, ok.get(c.id)), overlay = (v || c).ov;
    if (overlay && (overlayOpen(open) || capped())) return;
    if (v) {
      try { show(x, c, v, overlay); } catch (e) { open.delete(c.id); x._warn(e); } // the others still show
    } else if (v === null && exposedFirst(x._state, c.id)) {
      x._emit('exposure', { campaign: c.id, data: { segment: segment(ctx.visitor, x._device) } });
    }
  });
}

/** @param {Core} x @param {object} c the campaign @param {object} v its variant @param {boolean} overlay */
export function show(x, c, v, overlay) {
  const ids = { campaign: c.id, variant: v.id }, detail = { ...ids, type: c.type }, content = v.content || {};
  const s = x._state, emit = x._emit, visitor = x._context().visitor, h = visitor.history[c.id], lang = langOf(c, x._cfg().site);
  const m = rendererOf(content.quiz ? 'quiz' : c.type)({
    campaign: c, variant: v, type: c.type, display: v.display, position: content.position, content,
    lang, t: { ...T[lang], ...content.strings },
    visitor, firstShown: h && h.impressions[0], nonce: x._nonce, policy: x._cfg().site.consent, on: x.on,
    click: x._safe((url) => { emit('click', { ...ids, data: url ? { url } : {} }); goal(x, c, 'cta_click'); }),
    // got(url, title): a lead magnet's link, from the 202 that stored this submit (its path resolved against the
    // collect URL); the last form that waits for one is answered.
    submit: x._safe((data, got) => {
      const id = x._uuid();
      if (got) x._transport._got = (res) => res.json().then((a) => a.deliver?.forEach((d) => d.event_id == id && got(new URL(d.url, res.url).href, d.title)), x._warn);
      emit('submit', { ...ids, id, data }); goal(x, c, 'submit');
      // The band of the latest NPS answer is the visitor's (the `nps` attribute of audiences and targeting).
      if (data.form == 'nps') s._mut((d) => { d.nps = band(data.score); });
    }),
    closed: x._safe(() => { record(s, c.id, 'closes'); emit('close', ids); x._notify('close', detail); }),
    consent: x._safe((decision, categories) => consentSet(x, decision, categories)),
  });
  m._overlay = overlay;
  x._open.set(c.id, m);
  record(s, c.id, 'impressions');
  if (overlay) overlayShown(s);
  emit('impression', { ...ids, data: { segment: segment(visitor, x._device) } });
  x._notify('show', detail);
}

