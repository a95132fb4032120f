"""Ingest: the collect service on plain inputs and what it stands on.

`collect.py` (the service: a batch in, Collected or Refusal out), `body.py` (every size limit; reading a body),
`checks.py` (one event's checks), `sender.py` (facts about the sender: device, bot, address), `site_map.py` (what
collect checks events against), `site_keys.py` (the known public keys), `rate_limits.py`, `store.py` (the insert),
`refusals.py` (what was refused, counted), `writer.py` (the collect writer process), `write_turn.py` (SQLite's one
writer), `origins.py`, `url_hygiene.py`. The HTTP faces are widget/api/collect.py and widget/api/fast_path.py.
"""
