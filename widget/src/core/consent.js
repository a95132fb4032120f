// The consent decision (docs/widget.md, "Consent"): the visitor's record for the site's current policy, and what
// it allows. Taking a new decision (our banner, retarget('consent', ...), another consent tool) is lazy code:
// src/lazy/consent_set.js, and the other tools' adapters in src/lazy/consent.js.
import { localStore, readJSON, writeJSON } from './util.js';

const KEY = '_rt_c';
// The site's consent settings (the config's site.consent), and the stored record, read from storage once.
let policy = {}, read;

// Consent for Retarget: everything granted, or chosen categories that include marketing.
export const allows = (rec) => !!rec && (rec.decision == 'granted' || (rec.categories || []).includes('marketing'));

// The site's consent settings, once the config is there; returned as they are kept (never null).
export const consentUse = (c) => (policy = c || {});

// The decision for the current policy version (a new version asks again).
export function consentRec() {
  const r = read !== undefined ? read : (read = readJSON(localStore(), KEY));
  return r && String(r.policy_version) == String(policy.policy_version || null) ? r : null;
}

export const consentKeep = (rec) => writeJSON(localStore(), KEY, (read = rec));

// granted, denied or unknown: the visitor context's `consent`. A denial is obeyed on every site.
export const consentValue = () => { const r = consentRec(); return r ? (allows(r) ? 'granted' : 'denied') : 'unknown'; };

// A site that requires consent also waits for a grant before storing.
export const canStore = () => (policy.required ? consentValue() == 'granted' : consentValue() != 'denied');
