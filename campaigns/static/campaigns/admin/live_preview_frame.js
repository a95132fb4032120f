// Runs inside the preview frame (a sandboxed srcdoc document, see campaigns/admin/live_preview.py): the widget's
// preview file draws the data block's config with the renderer file, at the screen asked for.
const data = JSON.parse(document.getElementById('rt-preview-data').textContent);
// The frame never takes the focus by script. A popup focuses its first button as it opens, and a focus() in a frame
// moves the admin page's focus into the frame: the owner typing in the form beside it, the frame redrawn as they
// type, would see the next keys go to the preview. A click in the frame still focuses what it clicks.
HTMLElement.prototype.focus = () => {};
const [preview, render] = await Promise.all([import(data.preview), import(data.render)]);
const m = await preview.draw(render, data.config, data.screen);
document.documentElement.dataset.rtPreview = m ? data.screen : 'none';
