"""The one staleness protocol of per-process copies: a copy is fresh while younger than the reader's max_age."""

from campaigns import process_cache
from campaigns.process_cache import LocalCopies, stale


def test_a_copy_is_fresh_until_it_is_as_old_as_the_readers_max_age(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(process_cache, "clock", lambda: now[0])
    copies = LocalCopies()
    copies.keep("config:pk_1", "body")
    now[0] = 100.9
    assert copies.get("config:pk_1", max_age=1.0) == ("body", True)
    now[0] = 101.0
    assert copies.get("config:pk_1", max_age=1.0) == ("body", False)
    assert copies.get("config:pk_1", max_age=3600) == ("body", True)  # a reader that may serve an older copy


def test_keeping_a_copy_again_renews_it_and_forget_drops_it(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(process_cache, "clock", lambda: now[0])
    copies = LocalCopies()
    copies.keep("k", 1)
    now[0] = 5.0
    copies.keep("k", 1)
    assert copies.get("k", max_age=1.0) == (1, True)
    copies.forget("k")
    assert copies.get("k", max_age=1.0) is None


def test_the_least_recently_kept_copy_goes_first_beyond_the_size():
    copies = LocalCopies(size=2)
    copies.keep("a", 1)
    copies.keep("b", 2)
    copies.keep("a", 1)
    copies.keep("c", 3)
    assert copies.get("b", max_age=60) is None
    assert copies.get("a", max_age=60) == (1, True)
    assert copies.get("c", max_age=60) == (3, True)


def test_stale_reads_the_same_clock_as_the_copies():
    assert not stale(10.0, max_age=1.0, now=10.5)
    assert stale(10.0, max_age=1.0, now=11.0)
