"""The admin's language, and only the admin's: the widget's public answers stay the same for every visitor."""

from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class AdminLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (the language from Accept-Language) on the admin's pages alone.

    Elsewhere it would add `Vary: Accept-Language` and `Content-Language` to the widget's config, splitting one
    cacheable answer per site into one per browser language, and do work on the config path for nothing.
    """

    def process_request(self, request):
        if request.path_info.startswith("/admin/"):
            super().process_request(request)

    def process_response(self, request, response):
        if not request.path_info.startswith("/admin/"):
            return response
        response = super().process_response(request, response)
        # The language stays active in the worker's thread otherwise, and the next request that is not the admin's
        # (the results API's verdicts, say) would be answered in this owner's language.
        translation.deactivate()
        return response
