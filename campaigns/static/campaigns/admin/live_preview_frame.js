// Runs inside the preview frame (a sandboxed srcdoc document, see campaigns/admin/live_preview.py): the widget's
// preview file draws the data block's config with the renderer file, at the screen asked for.
const data = JSON.parse(document.getElementById('rt-preview-data').textContent);
const [preview, render] = await Promise.all([import(data.preview), import(data.render)]);
const m = await preview.draw(render, data.config, data.screen);
document.documentElement.dataset.rtPreview = m ? data.screen : 'none';
