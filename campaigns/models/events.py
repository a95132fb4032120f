"""Events, assignments, counters, responses and consent records (the Ingestion issue)."""
