import re

from django.conf import settings
from django.urls import path, re_path

from widget.api.collect import events_collect_api
from widget.api.config import site_config_api
from widget.api.decide import site_decide_api
from widget.api.magnet import magnet_download_api
from widget.api.preview import site_preview_api
from widget.demo import views as demo
from widget.embed import LEGACY_CORE_PATTERN, WIDGET_DIR, legacy_core_redirect

app_name = "widget"

urlpatterns = [
    path("api/w/<str:public_key>/config", site_config_api, name="config"),
    path("api/w/<str:public_key>/decide", site_decide_api, name="decide"),
    path("api/w/<str:public_key>/events", events_collect_api, name="events"),
    path("api/w/<str:public_key>/magnet/<str:token>", magnet_download_api, name="magnet"),
    path("api/w/<str:public_key>/preview", site_preview_api, name="preview"),
    re_path(
        rf"^{re.escape(settings.STATIC_URL.lstrip('/') + WIDGET_DIR)}{LEGACY_CORE_PATTERN}$",
        legacy_core_redirect, name="legacy-core",
    ),
]

# The demo shop serves the first site named "Demo shop": a development and trial aid, never a production page.
if settings.DEMO:
    urlpatterns += [
        path("demo/", demo.home, name="demo-home"),
        path("demo/blog/<slug:slug>/", demo.article, name="demo-article"),
        path("demo/product/<slug:slug>/", demo.product, name="demo-product"),
        path("demo/cart/", demo.cart, name="demo-cart"),
        path("demo/cart/add/", demo.cart_add, name="demo-cart-add"),
        path("demo/checkout/", demo.checkout, name="demo-checkout"),
        path("demo/thanks/", demo.thanks, name="demo-thanks"),
    ]
