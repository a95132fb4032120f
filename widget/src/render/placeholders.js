// {{cart.value}}, {{cart.count}}, {{attrs.first_name|there}}: text in, text out (never HTML).
const RE = /\{\{\s*([\w.]+)\s*(?:\|([^}]*))?\}\}/g;

const show = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v));

export function fill(text, data) {
  if (text == null) return '';
  return String(text).replace(RE, (_, path, fallback = '') => {
    const v = path.split('.').reduce((o, k) => (o && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined), data);
    return v == null || v === '' || typeof v === 'object' ? fallback.trim() : show(v);
  });
}

// The data placeholders read: the cart (with its item count) and the visitor's attributes.
export function placeholderData(visitor) {
  const cart = visitor.cart || { value: 0, items: [] };
  const count = (cart.items || []).reduce((n, i) => n + (+i.qty || 1), 0);
  return { cart: { ...cart, count }, attrs: visitor.attrs || {} };
}
