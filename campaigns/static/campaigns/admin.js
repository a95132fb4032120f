// The admin's own behaviour, from a static file: the Content-Security-Policy allows no inline script or handler.
// - a form with data-confirm asks before it is sent ("Declare B the winner");
// - a button with data-copy="<selector>" copies that field's text (the embed snippet).
'use strict';
document.addEventListener('submit', (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener('click', (event) => {
  const button = event.target.closest && event.target.closest('[data-copy]');
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  const done = () => { button.textContent = button.dataset.copied || 'Copied'; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, () => { field.select(); });
  } else {
    field.select(); // plain-HTTP admin: the text is selected for Ctrl+C
    if (document.execCommand && document.execCommand('copy')) done();
  }
});
