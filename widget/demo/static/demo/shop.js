// The demo shop's own script: hands the cart to the widget and tracks the purchase,
// exactly as a customer's site would (through the public retarget() API only).
(function () {
  var retarget = window.retarget || function () { (window.retarget.q = window.retarget.q || []).push(arguments); };
  var data = document.getElementById('demo-cart-data');
  if (data) retarget('cart', JSON.parse(data.textContent));
  var order = document.getElementById('order');
  if (order && parseFloat(order.dataset.orderTotal) > 0) {
    retarget('track', 'purchase', { value: parseFloat(order.dataset.orderTotal) });
  }
})();
