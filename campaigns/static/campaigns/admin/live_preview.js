// The campaign page's preview panel (templates/admin/campaigns/campaign/_preview.html, campaigns/admin/live_preview.py).
// It reads the form's fields (the message type, the site and each variant's content JSON, whoever writes them: a
// person or a structured editor that dispatches `input`), asks the server to compile the chosen variant, and draws it
// in a sandboxed srcdoc frame with the widget's own files. No inline script: the admin's CSP holds.
(() => {
  const panel = document.getElementById('rt-live-preview');
  if (!panel) return;
  const cfg = JSON.parse(document.getElementById('rt-live-preview-data').textContent);
  const form = panel.closest('form') || document.querySelector('#content-main form');
  const $ = (sel) => panel.querySelector(sel);
  const frame = $('.rt-lp-frame'), stage = $('.rt-lp-stage'), select = $('.rt-lp-variant');
  const screensBox = $('.rt-lp-screens'), errorsBox = $('.rt-lp-errors');
  let screen = 'main', seq = 0, timer = null, last = null;
  document.body.classList.add('rt-lp-on');

  const field = (name) => form.querySelector(`[name="${name}"]`);
  const csrf = () => (field('csrfmiddlewaretoken') || {}).value || '';
  // The variant rows of the inline (not the empty template row, nor rows marked for deletion).
  const rows = () => [...form.querySelectorAll('textarea[name^="variants-"][name$="-content"]')]
    .filter((t) => !t.name.includes('__prefix__'))
    .map((t) => {
      const p = t.name.slice(0, -'content'.length);
      const name = field(p + 'name'), id = field(p + 'id');
      return { prefix: p, content: t, label: (name && name.value) || p.replace(/^variants-(\d+)-$/, 'Variant $1'), id: id && id.value };
    });

  function fillSelect() {
    const keep = select.value;
    select.replaceChildren(...rows().map((r) => new Option(r.label, r.prefix)));
    if ([...select.options].some((o) => o.value == keep)) select.value = keep;
  }
  const current = () => rows().find((r) => r.prefix == select.value) || rows()[0];

  const json = (x) => JSON.stringify(x).replace(/</g, '\\u003c');
  // The frame's document: its own policy, a stand-in page, the data, and the one script (by URL). No lang: the message
  // speaks its campaign's language, else the site's, as on a page that declares none.
  const srcdoc = (config) => `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${cfg.csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${cfg.frame_css}"></head><body><main><h1>Your page</h1>
<div class="line"></div><div class="line"></div><div class="line short"></div><div class="line"></div></main>
<script type="application/json" id="rt-preview-data">${json({ config, screen, preview: cfg.preview, render: cfg.render })}</script>
<script type="module" src="${cfg.frame_js}"></script></body></html>`;

  function showScreens(list) {
    if (!list.some(([name]) => name == screen)) screen = 'main';
    screensBox.replaceChildren(...list.map(([name, label]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'button rt-lp-screen';
      b.dataset.screen = name;
      b.textContent = label;
      b.setAttribute('aria-pressed', String(name == screen));
      return b;
    }));
  }
  function showErrors(errors) {
    errorsBox.replaceChildren(...errors.map((e) => Object.assign(document.createElement('li'), { textContent: e })));
    errorsBox.hidden = !errors.length;
  }
  const draw = () => { if (last) frame.srcdoc = srcdoc(last); };

  async function refresh() {
    const row = current();
    if (!row) return showErrors(['Add a variant to see it here.']);
    const body = new FormData();
    body.set('message_type', (field('message_type') || {}).value || '');
    body.set('content', row.content.value);
    body.set('site', (field('site') || {}).value || '');
    if (cfg.campaign) body.set('campaign', cfg.campaign);
    const mine = ++seq;
    let answer;
    try {
      const r = await fetch(cfg.config_url, { method: 'POST', body, headers: { 'X-CSRFToken': csrf() }, credentials: 'same-origin' });
      answer = await r.json();
    } catch (e) {
      answer = { errors: ['The preview could not be made: ' + e.message] };
    }
    if (mine != seq) return; // a newer change is on its way
    showErrors(answer.errors || []);
    if (!answer.config) return; // the last good drawing stays
    last = answer.config;
    showScreens(answer.screens);
    draw();
  }
  const soon = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };

  // Capture: an editor's `new Event('input')` does not bubble, and is still seen here.
  form.addEventListener('input', (e) => { if (!panel.contains(e.target)) soon(); }, true);
  form.addEventListener('change', (e) => {
    if (panel.contains(e.target)) return;
    if (/^variants-\d+-name$/.test(e.target.name || '')) fillSelect();
    soon();
  }, true);
  document.addEventListener('formset:added', () => { fillSelect(); soon(); });
  document.addEventListener('formset:removed', () => { fillSelect(); soon(); });
  select.addEventListener('change', refresh);
  screensBox.addEventListener('click', (e) => {
    const b = e.target.closest('.rt-lp-screen');
    if (!b) return;
    screen = b.dataset.screen;
    screensBox.querySelectorAll('.rt-lp-screen').forEach((x) => x.setAttribute('aria-pressed', String(x == b)));
    draw();
  });
  panel.querySelectorAll('.rt-lp-width').forEach((b) => b.addEventListener('click', () => {
    stage.classList.toggle('rt-lp-desktop', b.dataset.width == 'desktop');
    stage.classList.toggle('rt-lp-phone', b.dataset.width == 'phone');
    panel.querySelectorAll('.rt-lp-width').forEach((x) => x.setAttribute('aria-pressed', String(x == b)));
  }));

  const linkButton = $('.rt-lp-link');
  if (linkButton) linkButton.addEventListener('click', async () => {
    const out = $('.rt-lp-link-out'), error = $('.rt-lp-link-error'), row = current();
    const body = new FormData();
    body.set('page', $('.rt-lp-page').value);
    if (row && row.id) body.set('variant', row.id);
    const r = await fetch(cfg.link_url, { method: 'POST', body, headers: { 'X-CSRFToken': csrf() }, credentials: 'same-origin' });
    const answer = await r.json();
    error.hidden = r.ok;
    out.hidden = !r.ok;
    if (!r.ok) { error.textContent = answer.error; return; }
    const a = out.querySelector('a');
    a.href = answer.url;
    a.textContent = answer.url;
  });

  fillSelect();
  refresh();
})();
