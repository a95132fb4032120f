"""Counters -> what marketers read: a campaign's A/B results (campaign.py), the statistics calculator
(calculator.py), verdicts in words (verdicts.py), the survey and consent reports (reports.py), CSV exports
(exports.py) and SVG charts (charts.py). Reads only: declaring a winner is a write (services/results.py)."""
