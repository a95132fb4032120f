import re
from pathlib import Path

from csp.decorators import csp_exempt
from django.http import HttpResponse
from django.urls import include, path

from widget.demo import views as demo

FLOOR_JS = Path(__file__).resolve().parent / "widget_floor.js"
FLOOR_URL = "/bench/static/widget/floor.js"


def trivial(request):
    return HttpResponse(b"ok", content_type="text/plain")


@csp_exempt()  # the demo page, which carries no policy either
def floor_page(request):
    """The demo home page with the widget's script replaced by bench/widget_floor.js (see there)."""
    response = demo.home(request)
    html = re.sub(r'src="[^"]*/static/widget/retarget(\.[^"]+)?\.js"', f'src="{FLOOR_URL}"', response.content.decode())
    return HttpResponse(html)


def floor_script(request):
    return HttpResponse(FLOOR_JS.read_bytes(), content_type="text/javascript")


urlpatterns = [
    path("bench/trivial", trivial),
    path("bench/floor/", floor_page),
    path(FLOOR_URL.lstrip("/"), floor_script),
    path("", include("retarget.urls")),
]
