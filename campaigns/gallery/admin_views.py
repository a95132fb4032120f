"""The admin's template gallery: every template as a card, and "Use this template" on one of the person's sites,
which opens the new draft in the campaign's change page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from campaigns.gallery.catalog import GalleryTemplate, gallery_templates
from campaigns.gallery.services import campaign_from_template
from campaigns.models import Campaign, Site
from campaigns.targeting.describe import campaign_describe

MESSAGE_CREATED = _("Draft “{name}” created from the template on {site}: review it, then activate it.")
MESSAGE_INVALID = _("The template does not fit this site: {errors}")


def _summary(template: GalleryTemplate) -> str:
    """When it shows, in the words of the campaign page's summary."""
    data = template.data
    return campaign_describe(message_type=template.message_type, triggers=data["triggers"],
                             targeting=data["targeting"], frequency=data["frequency"])


class TemplateUseForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None, label=_("For the site"))
    template = forms.ChoiceField(choices=())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # An owner picks among their own sites only; someone else's site id is "not one of the available choices".
        self.fields["site"].queryset = Site.objects.for_user(user)
        self.fields["template"].choices = [(t.key, t.name) for t in gallery_templates()]


def gallery_view(request):
    """GET: the gallery. POST (site, template): a draft from the template, then its change page."""
    form = TemplateUseForm(request.POST or None, user=request.user, initial={"site": request.GET.get("site")})
    if request.method == "POST" and form.is_valid():
        site = form.cleaned_data["site"]
        try:
            campaign = campaign_from_template(
                template_key=form.cleaned_data["template"], site=site, owner=request.user
            )
        except ValidationError as error:
            messages.error(request, MESSAGE_INVALID.format(errors="; ".join(error.messages)))
        else:
            messages.success(request, MESSAGE_CREATED.format(name=campaign.name, site=site))
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    types = dict(Campaign.MessageType.choices)
    return TemplateResponse(request, "admin/campaigns/gallery/index.html", {
        **admin.site.each_context(request),
        "title": gettext("Start from a template"),
        "form": form,
        "cards": [(t, types.get(t.message_type, t.message_type), _summary(t)) for t in gallery_templates()],
        "has_sites": form.fields["site"].queryset.exists(),
        "opts": Campaign._meta,
    }, status=400 if request.method == "POST" else 200)
