// The show path, loaded with the renderers (render-all.<hash>.js) since it only runs once a campaign is
// about to show or has shown: which of the campaigns fired together shows, the renderer's api, the
// impression and its bookkeeping, the goals (conversions count only after an impression) and the consent
// decision. `x` is the core's side, built in engine.js (_state, _emit, _notify, _context, _open, _cfg ...).
import { render as message } from './message.js';
import { render as consent } from './consent.js';
import { render as nps } from './nps.js';
import { render as feedback } from './feedback.js';
import { render as lead } from './lead.js';
import { render as cart_recovery } from './cart_recovery.js';
import { render as quiz } from './quiz.js';
import { record, overlayShown, exposedFirst } from './history.js';
import { OUTBOX } from '../transport.js';
import { memoryStorage, readJSON } from '../util.js';
import { KEY } from '../state.js';

// Message types with a renderer of their own; popup, bar, slide_in and fullscreen are `message`, or `quiz` when
// their content holds a quiz block.
const RENDER = { consent, nps, feedback, lead, cart_recovery, quiz };

// The visitor's segment for results filters: traffic source and new/returning (device comes from the UA).
export function segment(v) {
  const u = v.utm || {}, ref = v.first_touch.referrer;
  let source = u.source ? u.source + (u.medium ? '/' + u.medium : '') : '';
  if (!source) try { source = ref ? new URL(ref).hostname : 'direct'; } catch (_) { source = 'direct'; }
  return { source, returning: v.sessions > 1 };
}

// A conversion for a campaign whose goal it is, once per impression within the attribution window.
// `test` for the goals that need one: url (its compiled rule on this page), event (its name).
function goal(x, c, type, test) {
  const g = c.goal || {}, s = x._state, h = s.data.history[c.id] || {}, last = (k) => (h[k] || []).slice(-1)[0];
  const shown = last('impressions');
  if (g.type != type || !shown || last('conversions') >= shown || (test && !test(g))
    || Date.now() - shown > (g.attribution_days || 7) * 864e5) return;
  record(s, c.id, 'conversions');
  x._notify('convert', { campaign: c.id, variant: s.data.variants[c.id], type: c.type, goal: type });
}
export function goals(x, type, name) {
  const cfg = x._cfg(), rt = x._rt;
  let ctx; // built only if a campaign has a url goal
  const test = type == 'url' ? (g) => g.rule && rt.match(g.rule, ctx || (ctx = rt.contextOf(x._context(), cfg.site.tzo)))
    : type == 'event' ? (g) => g.event === name : null;
  cfg.campaigns.forEach((c) => goal(x, c, type, test));
}

const overlayOpen = (open) => [...open.values()].some((m) => !m || (m._overlay && m.el.isConnected));

// Campaigns fired in the same tick compete: the first in priority order (the config's) wins the overlay
// slot, if no overlay is open and the site cap allows it. A holdout visitor sends `exposure` instead.
export function resolve(x, fired) {
  const cfg = x._cfg(), ctx = x._context(), ok = x._eligible(ctx), open = x._open, rt = x._rt;
  const capped = () => cfg.site.caps.some((k) => rt.match(k[2], rt.contextOf(ctx)));
  cfg.campaigns.filter((c) => fired.includes(c)).forEach((c) => {
    if (!ok.has(c.id) || open.has(c.id)) return;
    const v = x._variantOf(c, ok.get(c.id)), overlay = (v || c).ov;
    if (overlay && (overlayOpen(open) || capped())) return;
    if (v) {
      try { show(x, c, v, overlay); } catch (e) { open.delete(c.id); x._warn(e); } // the others still show
    } else if (v === null && exposedFirst(x._state, c.id)) {
      x._emit('exposure', { campaign: c.id, data: { segment: segment(ctx.visitor) } });
    }
  });
}

export function show(x, c, v, overlay) {
  const ids = { campaign: c.id, variant: v.id }, detail = { ...ids, type: c.type }, content = v.content || {};
  const s = x._state, emit = x._emit, visitor = x._context().visitor, h = visitor.history[c.id];
  const m = (RENDER[content.quiz ? 'quiz' : c.type] || message)({
    campaign: c, variant: v, type: c.type, display: v.display, position: content.position, content,
    visitor, firstShown: h && h.impressions[0], nonce: x._nonce, policy: x._cfg().site.consent, on: x.on,
    click: x._safe((url) => { emit('click', { ...ids, data: url ? { url } : {} }); goal(x, c, 'cta_click'); }),
    submit: x._safe((data) => { emit('submit', { ...ids, data }); goal(x, c, 'submit'); }),
    closed: x._safe(() => { record(s, c.id, 'closes'); emit('close', ids); x._notify('close', detail); }),
    consent: x._safe((decision, categories) => consentSet(x, decision, categories)),
  });
  m._overlay = overlay;
  x._open.set(c.id, m);
  record(s, c.id, 'impressions');
  if (overlay) overlayShown(s);
  emit('impression', { ...ids, data: { segment: segment(visitor) } });
  x._notify('show', detail);
}

// The visitor's consent decision (docs/widget.md, "Consent"): granted (or chosen categories with marketing)
// moves the state to storage and sends the events held; denied drops them and forgets a stored visitor.
// From another consent tool (src/consent.js), `proof` is its record of the decision (the TCF string), kept with ours.
// On a site that erases on denial, the denial names the visitor stored until then (only there: the event itself
// carries no visitor id), so the server can erase them.
export function consentSet(x, decision, categories, proof) {
  const c = x._cfg().site.consent, rec = {
    decision: decision == 'granted' || decision == 'denied' ? decision : 'custom',
    categories: categories || [], policy_version: c.policy_version || null, consent_id: x._uuid(),
  };
  if (proof) rec.tc_string = proof;
  const ls = x._store(), ok = x._allows(rec), s = x._state, t = x._transport, stored = readJSON(ls, KEY);
  x._consentKeep({ ...rec, ts: Date.now() });
  if (ok) {
    // A visitor stored by an earlier consent wins; the events held on this page take its ids.
    s._useStorage(ls);
    const d = s.data;
    t._release(true, ls, { visitor: d.id, session: d.session && d.session.id });
  } else {
    t._release(false, memoryStorage());
    s._forget(); // a stored visitor (an earlier "granted") is forgotten
    try { ls.removeItem(OUTBOX); } catch (_) { /* blocked */ }
  }
  x._emit('consent', ok ? { data: rec } : {
    data: c.erase && stored && stored.id ? { ...rec, erase: stored.id } : rec, visitor: null, session: null,
  });
  if (c.gcm && !c.source) x._load('cmp').then((m) => m.update(x, rec), x._warn);
  x._open.forEach((m, id) => { if (m && x._cfg().campaigns.some((k) => k.id === id && k.type == 'consent')) m.close(); });
  x._arm();
}
