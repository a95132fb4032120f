// Taking the visitor's consent decision (our banner, retarget('consent', ...), another consent tool): lazy,
// since a page where nobody decides does not need it. What a stored decision allows is the core's
// (src/core/consent.js).
import { OUTBOX } from '../core/transport.js';
import { readJSON } from '../core/util.js';
import { KEY } from '../core/state.js';

/** @typedef {import('../core/engine.js').Core} Core */

// The visitor's consent decision taken (docs/widget.md, "Consent"): granted (or chosen categories with marketing)
// moves the state to storage and sends the events held; denied drops them and forgets a stored visitor.
// From another consent tool (./consent.js), `proof` is its record of the decision (the TCF string), kept with ours.
// On a site that erases on denial, the denial names the visitor stored until then (only there: the event itself
// carries no visitor id), so the server can erase them.
/**
 * @param {Core} x @param {'granted'|'denied'|'custom'} decision @param {string[]} categories chosen
 * @param {string} [proof] the other tool's record (TCF string)
 */
export function consentSet(x, decision, categories, proof) {
  const c = x._cfg().site.consent, rec = {
    decision, categories, policy_version: c.policy_version || null, consent_id: x._uuid(),
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
    // A stored visitor (an earlier "granted") is forgotten; the state and the events go on in memory.
    t._release(false, s._forget());
    try { ls.removeItem(OUTBOX); } catch (_) { /* blocked */ }
  }
  x._emit('consent', ok ? { data: rec } : {
    data: c.erase && stored && stored.id ? { ...rec, erase: stored.id } : rec, visitor: null, session: null,
  });
  if (c.gcm && !c.source) x._load('cmp').then((m) => m.update(x, rec), x._warn);
  x._open.forEach((m, id) => { if (x._cfg().campaigns.some((k) => k.id === id && k.type == 'consent')) m.close(); });
  x._arm();
}

// retarget('consent', value): 'granted', 'denied', or {categories: [...]} chosen (the core holds the page's events
// until the decision is taken here).
export const consentCommand = (x, value) => (value == 'granted' || value == 'denied'
  ? consentSet(x, value, value == 'granted' ? ['marketing'] : [])
  : consentSet(x, 'custom', (value && value.categories) || []));
