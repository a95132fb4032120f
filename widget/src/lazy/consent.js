// Consent that involves another tool, loaded only for sites configured with it (docs/widget.md, "Consent"):
// Google Consent Mode v2 updates sent for our decision, and the adapters that take the decision from another
// consent tool instead of our banner: IAB TCF v2.2 (__tcfapi) or the site's own Consent Mode updates.
const NECESSARY = 'necessary';
// Store on a device, create and use content profiles: a message chosen from what a visitor did needs all three.
export const TCF_PURPOSES = [1, 5, 6];

/** @typedef {import('../core/engine.js').Core} Core */

// IAB TCF v2.2: the CMP calls back when its decision is loaded and whenever the visitor acts; marketing is
// granted when every purpose we need has consent, or when the GDPR does not apply to this visitor.
// A CMP without an inline stub defines __tcfapi later: the widget looks once more when the page has loaded.
function tcf(x, w, again) {
  if (typeof w.__tcfapi != 'function') {
    if (again || x._doc.readyState == 'complete') return x._warn(Error('consent source tcf: no __tcfapi on this page'));
    const off = x.on(w, 'load', () => { off(); tcf(x, w, true); });
    return;
  }
  w.__tcfapi('addEventListener', 2, x._safe((d, ok) => {
    if (!ok || !d || (d.eventStatus != 'tcloaded' && d.eventStatus != 'useractioncomplete')) return;
    const p = (d.purpose && d.purpose.consents) || {};
    const yes = d.gdprApplies === false || TCF_PURPOSES.every((n) => p[n] === true);
    decide(x, yes ? 'granted' : 'denied', yes ? ['marketing'] : [], d.tcString || '');
  }));
}

// Consent Mode: the site's own gtag('consent', 'update', ...) in the dataLayer, those already there and
// those pushed later. A category is granted when every type mapped to it that the updates named is granted.
function gcm(x, w, map) {
  const dl = (w.dataLayer = w.dataLayer || []), state = {};
  const seen = (e) => {
    if (!e || e[0] != 'consent' || e[1] != 'update' || !e[2]) return;
    Object.assign(state, e[2]);
    const cats = {};
    Object.keys(map).forEach((t) => { if (t in state) cats[map[t]] = cats[map[t]] !== false && state[t] == 'granted'; });
    const all = Object.keys(cats), granted = all.filter((k) => cats[k]);
    decide(x, granted.length == all.length ? 'granted' : granted.length ? 'custom' : 'denied', granted);
  };
  [...dl].forEach(seen);
  const push = dl.push;
  dl.push = function () {
    const r = push.apply(this, arguments);
    [...arguments].forEach(x._safe(seen));
    return r;
  };
}

/** @param {Core} x */
export function start(x) {
  const c = x._cfg().site.consent, w = x._win;
  if (c.source == 'tcf') tcf(x, w);
  else if (c.source == 'gcm') gcm(x, w, c.gcm);
  else if (x._consentRec()) update(x, x._consentRec()); // a decision of an earlier page, over this page's default
}

// The other tool's decision, taken as if the visitor had called retarget('consent', ...); the same decision
// again (every page load repeats it) is not recorded twice.
function decide(x, decision, categories, proof) {
  const r = x._consentRec();
  if (r && r.decision == decision && String(r.categories) == String(categories) && (r.tc_string || '') == (proof || '')) return;
  x._transport._hold();
  x._load('render').then((m) => m.consentSet(x, decision, categories, proof)).catch(x._warn);
}

// Our decision as gtag('consent', 'update', ...): a type is granted when its category is (necessary always is).
// Called only on sites with a Consent Mode map (site.consent.gcm) and no other consent tool.
/** @param {Core} x @param {object} rec the decision's record (src/lazy/consent_set.js), or a stored one */
export function update(x, rec) {
  const map = x._cfg().site.consent.gcm, w = x._win, state = {};
  Object.keys(map).forEach((t) => {
    state[t] = rec.decision == 'granted' || map[t] == NECESSARY || (rec.categories || []).includes(map[t]) ? 'granted' : 'denied';
  });
  // gtag.js reads Arguments objects from the dataLayer, not arrays: push them as the site's gtag() does.
  (w.gtag || function () { (w.dataLayer = w.dataLayer || []).push(arguments); })('consent', 'update', state);
}
