"""Django admin for lead magnet files, scoped to the owner's sites like the campaigns.

The change page never links to the file: it is served only through a signed link answered to a stored lead
(widget/api/magnet.py), so the form shows its name, not a URL.
"""

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.admin.base import OwnerScopedAdmin
from campaigns.models import Asset


@admin.register(Asset)
class AssetAdmin(OwnerScopedAdmin):
    list_display = ("name", "title", "site", "kind", "created_at")
    list_filter = (("site", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "title")
    fields = ("site", "name", "title", "file", "url", "reference")
    readonly_fields = ("reference",)
    formfield_overrides = {models.FileField: {"widget": forms.FileInput}, models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("Kind"))
    def kind(self, obj) -> str:
        return "file" if obj.file else "URL"

    @admin.display(description=_("In a lead's content"))
    def reference(self, obj) -> str:
        return f'"magnet": {{"title": "{obj.title}", "asset": "asset:{obj.name}"}}' if obj.pk else "-"
