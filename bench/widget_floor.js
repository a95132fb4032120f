// The reference the widget bench measures beside the widget: the least a widget of this kind does on a page
// load, with no logic of its own. It reads its visitor from localStorage, fetches the site's config, writes the
// visitor back, and once the page is idle sends one page view with fetch(keepalive), as the widget does.
// Served by bench/urls.py at a URL under /static/widget/, so the bench attributes its slices the same way.
(() => {
  const script = document.currentScript, site = script.getAttribute('data-site');
  const api = script.getAttribute('data-api') || '';
  let visitor = null;
  try { visitor = JSON.parse(localStorage.getItem('_rt_floor')); } catch (_) { /* blocked or not ours */ }
  fetch(`${api}/api/w/${site}/config`, { credentials: 'omit' }).then((r) => r.json()).then(() => {
    visitor = visitor || { id: crypto.randomUUID(), pv: 0 };
    visitor.pv += 1;
    try { localStorage.setItem('_rt_floor', JSON.stringify(visitor)); } catch (_) { /* full or blocked */ }
    const event = { id: crypto.randomUUID(), type: 'pageview', ts: Date.now(), visitor: visitor.id, url: location.href };
    requestIdleCallback(() => fetch(`${api}/api/w/${site}/events`, {
      method: 'POST', keepalive: true, body: JSON.stringify({ events: [event] }), headers: { 'Content-Type': 'text/plain' },
    }));
  });
})();
