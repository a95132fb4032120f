"""The admin login is throttled per account and per address (django-axes), and a lockout ends by itself."""

from datetime import timedelta
from unittest import mock

from django.conf import settings
from django.utils import timezone

LOGIN = "/admin/login/?next=/admin/"
ATTACKER = "203.0.113.7"


def login(client, *, username: str, password: str, address: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_forty_wrong_passwords_then_the_right_one_is_refused(client, superuser):
    answers = [login(client, username="root", password=f"guess-{n}", address=ATTACKER).status_code for n in range(40)]
    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)  # the form again
    assert set(answers[settings.AXES_FAILURE_LIMIT - 1:]) == {429}
    refused = login(client, username="root", password="pw-root", address=ATTACKER)
    assert refused.status_code == 429 and not logged_in(refused)


def test_the_lockout_holds_the_account_from_any_address_and_the_address_for_any_account(client, superuser, owner):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(client, username="root", password=f"guess-{n}", address=ATTACKER)
    assert login(client, username="root", password="pw-root", address="198.51.100.20").status_code == 429
    assert login(client, username="owner", password="pw-owner", address=ATTACKER).status_code == 429


def test_another_account_from_another_address_is_unaffected(client, superuser, owner):
    for n in range(40):
        login(client, username="root", password=f"guess-{n}", address=ATTACKER)
    assert logged_in(login(client, username="owner", password="pw-owner", address="198.51.100.20"))


def test_the_lockout_ends_after_the_cool_off_even_if_the_attack_goes_on(client, superuser):
    start = timezone.now()
    with mock.patch("axes.handlers.proxy.now", return_value=start):  # the attack within one instant
        for n in range(40):
            login(client, username="root", password=f"guess-{n}", address=ATTACKER)
    with mock.patch("axes.handlers.proxy.now", return_value=start + settings.AXES_COOLOFF_TIME - timedelta(seconds=1)):
        assert login(client, username="root", password="pw-root", address=ATTACKER).status_code == 429
    with mock.patch("axes.handlers.proxy.now", return_value=start + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)):
        assert logged_in(login(client, username="root", password="pw-root", address=ATTACKER))


def test_a_few_mistakes_then_the_right_password_logs_in_and_start_the_count_again(client, owner):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, username="owner", password=f"typo-{n}", address="198.51.100.20")
    assert logged_in(login(client, username="owner", password="pw-owner", address="198.51.100.20"))
    client.logout()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, username="owner", password=f"typo-{n}", address="198.51.100.20")
    assert logged_in(login(client, username="owner", password="pw-owner", address="198.51.100.20"))
