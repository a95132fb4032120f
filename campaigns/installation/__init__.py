"""The installation check: is the widget running on the site's pages, from which origins, with which version, and
what was refused.

`selectors.py` (what the site's and a campaign's admin pages show, from what the tally wrote and the refused origins),
`services.py` (an owner adds a refused origin), `fetch.py` (a page fetched for "Check now": allowed origins and
public addresses only, bounded in time and size), `page_check.py` (is this site's snippet on a fetched page?),
`url_targeting.py` (a campaign's URL rules alone, for "its pages had page views"). The tally writes the counters
(campaigns/tally/installation.py), collect and the config endpoint note refused origins (campaigns/ingest/refusals.py).
"""
