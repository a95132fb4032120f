"""The demo shop: a small site that embeds the widget snippet exactly as a customer's site would.

Its cart lives in the Django session; each page hands the cart to the widget with
`retarget('cart', ...)` from /static/demo/shop.js (no inline script besides the snippet).
"""

from decimal import Decimal

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaigns.models import Site
from widget.demo import DEMO_SITE_NAME
from widget.snippet import embed_snippet

PRODUCTS = {
    "trail-shoe": {"id": "trail-shoe", "name": "Ridge trail running shoe", "price": Decimal("89.90"),
                   "blurb": "Grippy, light and made for muddy climbs."},
    "merino-socks": {"id": "merino-socks", "name": "Merino running socks", "price": Decimal("14.50"),
                     "blurb": "Warm when wet, never itchy."},
}

ARTICLES = {
    "seo-basics": {
        "title": "SEO basics for small shops",
        "topic": "seo",
        "paragraphs": [
            "Search engines send a small shop most of its first visitors. This guide walks through the few "
            "things that matter: page titles, descriptions, fast pages and links from sites your buyers read.",
            "Start with titles. Each product page needs one that says what the product is, in the words a buyer "
            "types. 'Ridge trail running shoe, women, size 36-42' beats 'Ridge | Shop'.",
            "Then descriptions: two sentences that answer the buyer's first question. They are not a ranking "
            "factor, but they decide whether the result is clicked.",
            "Speed matters on phones. Compress images, defer scripts you do not need on first paint, and measure "
            "with the tools your browser already has.",
            "Links come last and slowly: write the guide your buyers would share, then tell the people who "
            "write about your field that it exists.",
        ] * 3,
    },
    "choosing-running-shoes": {
        "title": "How to choose trail running shoes",
        "topic": "running",
        "paragraphs": [
            "Trail shoes differ from road shoes in three ways: the grip of the outsole, the protection under the "
            "forefoot and the way the upper holds your foot on a slope.",
            "Deep lugs grip mud; shorter ones are faster on hard trails. If you run both, choose a middle ground "
            "around 4 mm.",
            "A rock plate protects the forefoot on sharp ground, at the cost of some feel. Runners on forest "
            "paths rarely need one.",
            "Fit is everything: try shoes in the afternoon, with the socks you run in, and walk down a slope in "
            "them before you buy.",
        ] * 4,
    },
}


def _site() -> Site | None:
    return Site.objects.filter(name=DEMO_SITE_NAME).order_by("id").first()


def _cart(request) -> dict:
    lines = []
    for product_id, qty in request.session.get("cart", {}).items():
        product = PRODUCTS.get(product_id)
        if product:
            lines.append({**product, "qty": qty, "total": product["price"] * qty})
    total = sum((line["total"] for line in lines), Decimal("0"))
    return {"lines": lines, "total": total, "count": sum(line["qty"] for line in lines)}


def _render(request, template: str, context: dict):
    site = _site()
    cart = _cart(request)
    widget_cart = {
        "value": float(cart["total"]),
        "items": [{"id": line["id"], "qty": line["qty"], "price": float(line["price"])} for line in cart["lines"]],
    }
    base_url = request.build_absolute_uri("/").rstrip("/")
    return render(
        request,
        template,
        {
            **context,
            "cart": cart,
            "widget_cart": widget_cart,
            "site": site,
            "snippet": embed_snippet(public_key=site.public_key, base_url=base_url) if site else "",
            "articles": ARTICLES,
            "products": PRODUCTS,
        },
    )


def home(request):
    return _render(request, "demo/home.html", {"title": "Home"})


def article(request, slug: str):
    item = ARTICLES.get(slug)
    if item is None:
        raise Http404("No such article")
    return _render(request, "demo/article.html", {"title": item["title"], "article": item})


def product(request, slug: str):
    item = PRODUCTS.get(slug)
    if item is None:
        raise Http404("No such product")
    return _render(request, "demo/product.html", {"title": item["name"], "product": item})


def cart(request):
    return _render(request, "demo/cart.html", {"title": "Your cart"})


@require_POST
def cart_add(request):
    product_id = request.POST.get("product", "")
    if product_id in PRODUCTS:
        cart = request.session.get("cart", {})
        cart[product_id] = cart.get(product_id, 0) + 1
        request.session["cart"] = cart
    return HttpResponseRedirect(reverse("widget:demo-cart"))


def checkout(request):
    if request.method == "POST":
        total = _cart(request)["total"]
        request.session["cart"] = {}
        request.session["last_order_total"] = str(total)
        return HttpResponseRedirect(reverse("widget:demo-thanks"))
    return _render(request, "demo/checkout.html", {"title": "Checkout"})


def thanks(request):
    total = request.session.get("last_order_total", "0")
    return _render(request, "demo/thanks.html", {"title": "Thank you", "order_total": total})
