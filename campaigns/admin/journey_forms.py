"""The forms of the journey pages (campaigns/admin/journeys.py): the map's filters, and the formsets of page groups
and clean-up rules, each row checked as the model checks it so an error shows on its field."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from campaigns.journeys.flow import DEFAULT_COLUMNS, DEFAULT_TOP, MAX_COLUMNS, MAX_TOP
from campaigns.journeys.paths import URL_RULE_OPS, Group, cleanup_rule_problems, url_rule_problems
from campaigns.models import Stage

SAME_NAME = _("Two groups have this name.")
START_AND_GOAL = _("Choose a starting page or a goal, not both.")
DATES_ORDER = _("'From' must be on or before 'To'.")


class JourneyMapForm(forms.Form):
    """What the map shows: the days, the segment, how many steps and nodes per step, and where the flow starts."""

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            label=pgettext_lazy("date range", "From"))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            label=pgettext_lazy("date range", "To"))
    source = forms.ChoiceField(required=False, label=_("Traffic source"))
    device = forms.ChoiceField(required=False, label=_("Device"))
    returning = forms.TypedChoiceField(
        required=False, label=_("Visitors"), coerce=lambda value: value == "true", empty_value=None
    )
    audience = forms.TypedChoiceField(required=False, label="Audience", coerce=int, empty_value=None)
    steps = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=DEFAULT_COLUMNS, label=_("Steps"),
        choices=[(n, n) for n in range(1, MAX_COLUMNS + 1)], initial=DEFAULT_COLUMNS,
    )
    top = forms.IntegerField(required=False, min_value=1, max_value=MAX_TOP, label=_("Pages per step"),
                             initial=DEFAULT_TOP)
    start = forms.ChoiceField(required=False, label=_("From the page"))
    goal = forms.ChoiceField(required=False, label=_("Or back from the goal"))

    def __init__(self, *args, segments: dict[str, list], groups: list[Group], paths: list[str],
                 audiences: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = [("", _("Every visitor")), *((str(i), name) for i, name in audiences)]
        self.fields["source"].choices = [("", _("Any source")), *((s, s or _("(none)")) for s in segments["source"])]
        self.fields["device"].choices = [("", _("Any device")), *((d, d.capitalize() or _("(unknown)"))
                                                                for d in segments["device"])]
        self.fields["returning"].choices = [
            ("", _("New and returning")),
            *(("true", _("Returning")) if returning else ("false", _("New")) for returning in segments["returning"]),
        ]
        names = [group.name for group in groups]
        self.fields["start"].choices = [("", _("Entry pages")), *((n, n) for n in names),
                                        *((p, p) for p in paths if p not in names)]
        self.fields["goal"].choices = [("", _("No goal")), *((n, n) for n in names)]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError(DATES_ORDER)
        if data.get("start") and data.get("goal"):
            raise ValidationError(START_AND_GOAL)
        return data


class GroupForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    op = forms.ChoiceField(choices=[(op, op.replace("_", " ")) for op in URL_RULE_OPS], label=_("URL rule"),
                           initial="starts_with")
    value = forms.CharField(max_length=500, label=_("Value"), strip=False)
    stage = forms.ChoiceField(choices=[("", _("(no stage)")), *Stage.choices], required=False, label=_("Stage"))
    order = forms.IntegerField(min_value=0, max_value=1_000_000, initial=0, label=_("Order"))

    def clean(self):
        data = super().clean()
        if data.get("op") and "value" in data:
            for problem in url_rule_problems(rule={"op": data["op"], "value": data["value"]}):
                self.add_error("value", problem)
        return data

    def group(self) -> Group:
        data = self.cleaned_data
        return Group(name=data["name"], rule={"op": data["op"], "value": data["value"]}, stage=data["stage"],
                     order=data["order"])


class CleanupForm(forms.Form):
    pattern = forms.CharField(max_length=500, strip=False, label=_("Pattern"))
    replacement = forms.CharField(max_length=200, required=False, strip=False, label=_("Replacement"))
    order = forms.IntegerField(min_value=0, max_value=1_000_000, initial=0, label=_("Order"))

    def clean(self):
        data = super().clean()
        if "pattern" in data:
            for problem in cleanup_rule_problems(pattern=data["pattern"], replacement=data.get("replacement", "")):
                field, _sep, message = problem.partition(": ")
                self.add_error(field if field in ("pattern", "replacement") else None, message or problem)
        return data


class BaseGroupFormSet(forms.BaseFormSet):
    def clean(self):
        seen: set[str] = set()
        for form in kept_forms(self):
            name = form.cleaned_data.get("name")
            if name in seen:
                form.add_error("name", SAME_NAME)
            seen.add(name)


GroupFormSet = forms.formset_factory(GroupForm, formset=BaseGroupFormSet, extra=2, can_delete=True,
                                     max_num=200, validate_max=True)
CleanupFormSet = forms.formset_factory(CleanupForm, extra=1, can_delete=True, max_num=100, validate_max=True)


def kept_forms(formset) -> list[forms.Form]:
    """The rows to save: every row shown filled in (unless marked for deletion), and the blank ones filled."""
    return [
        form for index, form in enumerate(formset.forms)
        if hasattr(form, "cleaned_data") and (index < formset.initial_form_count() or form.has_changed())
        and not form.cleaned_data.get("DELETE")
    ]
