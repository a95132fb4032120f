// The frequency bookkeeping of shown messages (docs/widget.md, "Visitor state"): it only runs once a
// message has shown, so it lives in the renderer file. `state` is createState() of src/core/state.js.
import { push } from '../core/util.js';
import { MAX_TIMES } from '../core/state.js';

// kind: impressions | closes | conversions; an impression also notes its session (once_per_session).
export function record(state, cid, kind) {
  state._mut((d) => {
    const h = d.history[cid] || (d.history[cid] = { impressions: [], closes: [], conversions: [], sessions: [] }), s = state._session(d);
    push(h[kind], state._now(), MAX_TIMES);
    if (kind == 'impressions' && !h.sessions.includes(s.id)) push(h.sessions, s.id, MAX_TIMES);
  });
}

// true the first time only (exposure is sent once per campaign per visitor)
export const exposedFirst = (state, cid) => state._mut((d) => !d.exposed[cid] && (d.exposed[cid] = 1));

// An overlay shown, for the site cap.
export const overlayShown = (state) => state._mut((d) => { push(d.overlays, state._now(), MAX_TIMES); });
