"""An exit-intent trigger's `delay` is in seconds, like every other duration of the rule language: stored delays in
milliseconds are divided by 1000 (300 -> 0.3). The widget still receives milliseconds, so nothing it does changes."""

from django.db import migrations

EXIT_INTENT = "exit_intent"


def _params(trigger: dict) -> dict:
    return trigger["params"] if isinstance(trigger.get("params"), dict) else trigger


def _convert(apps, scale) -> None:
    Campaign = apps.get_model("campaigns", "Campaign")
    for campaign in Campaign.objects.only("id", "triggers").iterator():
        changed = False
        for trigger in campaign.triggers if isinstance(campaign.triggers, list) else []:
            if not isinstance(trigger, dict) or trigger.get("type") != EXIT_INTENT:
                continue
            params = _params(trigger)
            delay = params.get("delay")
            if isinstance(delay, int | float) and not isinstance(delay, bool):
                scaled = scale(delay)
                params["delay"] = int(scaled) if float(scaled).is_integer() else scaled
                changed = True
        if changed:
            Campaign.objects.filter(id=campaign.id).update(triggers=campaign.triggers)


def delay_to_seconds(apps, schema_editor) -> None:
    _convert(apps, lambda ms: ms / 1000)


def delay_to_milliseconds(apps, schema_editor) -> None:
    _convert(apps, lambda seconds: round(seconds * 1000, 3))


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0016_consent_mode_adapters_erase"),
    ]

    operations = [migrations.RunPython(delay_to_seconds, delay_to_milliseconds)]
