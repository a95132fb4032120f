"""The tally: stored events folded into assignments, funnel steps, daily counters, responses and consent proof,
exactly once.

drain.py claims and counts batch by batch; sql.py is the fold on PostgreSQL (set-based statements, one
function per step) and portable.py the same fold in Python (the SQLite demo); both read what a goal is and when a
conversion counts from attribution.py, build the records they keep from records.py, and book counts under
segments.py's segment. nudge.py queues a drain after a commit; background.py is the drain thread of a process
without a worker; forms.py screens form answers a bot sent; denials.py erases what a denial asks to forget;
journeys.py and installation.py fold events into the journey map's and the installation check's tables.
"""
