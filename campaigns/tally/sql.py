"""The fold on PostgreSQL: a batch of claimed events counted by a fixed sequence of set-based statements.

The claimed events are moved into a temporary table, and the statements below fold them, each step one
function (no Python per event; Python only reads the goals of the batch's campaigns and matches URL goals once
per distinct URL). Unique counts come from rows with unique keys, never from memory, so they stay exact across
batches, workers and retries: the visitor's Assignment (insert-if-absent) records their exposure and the day of
each funnel step they reached on the assigned variant (a step counts when its field is first filled), and a step
reached on another variant, or before the visitor had an assignment, is an insert-if-absent FunnelStep row (moved
onto the assignment when it is made). A new visitor's first impression is thus one row written. Every count is
booked under the visitor's segment as their assignment fixed it at first exposure (segments.py), so the segments
of the counters add up to the totals; an event of a visitor without an assignment is booked under its own.

The batch's visitors' assignments are read once, by one index probe each, into another temporary table that the
later statements join in memory; the event that makes a new assignment is counted whole by the statement that
inserts it. The drain (drain.py) runs tally_batch in its transaction, holding the tally's lock.
"""

import json

from django.db import connection

from campaigns.models import (
    Assignment,
    Campaign,
    ConsentRecord,
    Event,
    FunnelStep,
    Response,
    Site,
    TallyCursor,
    VariantDailyStats,
)
from campaigns.tally.attribution import ATTRIBUTED_GOALS, EVENT_GOAL_OF, Goal, goal_looks_back, goal_parse, url_reached
from campaigns.tally.audiences import audiences_fold
from campaigns.tally.denials import denials_erase
from campaigns.tally.forms import submits_screen
from campaigns.tally.installation import INSTALLATION_CLAIM_COLUMNS, INSTALLATION_CLAIM_SQL, installation_fold
from campaigns.tally.journeys import JOURNEY_CLAIM_COLUMNS, JOURNEY_CLAIM_SQL, journeys_fold
from campaigns.tally.records import (
    COUNTERS,
    EVENT_COUNTER,
    MAX_REVENUE,
    STEP_COUNTER,
    STEP_FIELD,
    Step,
    consent_of,
    response_of,
)
from campaigns.tally.segments import DEVICE_SQL, SEGMENT, SOURCE_SQL
from campaigns.tally.zones import known_zones

EVENTS = Event._meta.db_table
CURSOR = TallyCursor._meta.db_table
ASSIGNMENTS = Assignment._meta.db_table
STEPS = FunnelStep._meta.db_table
STATS = VariantDailyStats._meta.db_table
SITES = Site._meta.db_table
SEGMENT_OF_A = 'a.device, a.source, a."returning"'
# The columns of an event that responses and consent proof are built from (read for the few events they copy).
RECORD_COLUMNS = ("site_id", "event_id", "type", "ts", "received_at", "visitor_id", "campaign_id", "variant_id",
                  "url", "payload", "ip_truncated", "user_agent", "ip_hash")


# Transaction ids are server-wide, but only transactions in this database can store events. The horizon is the
# oldest transaction id still running here (other than this one: its own events stand or fall with the batch,
# as in a tally run by the transaction that stored them, as the tests do), so that a transaction left open in
# another database on the same server (a report, a dump, another application) does not hold the tally back.
# First an id below which every id was handed out before this moment (the snapshot's xmax, or one past our
# own). Then, in a later statement, the ids of this database's running backends and prepared transactions, as
# 64-bit ids (the 32-bit xid put in the epoch of xmax; a running xid is always within 2^31 of it). A
# transaction that gets its id after the first statement is above that bound anyway. Where a backend's ids
# are hidden from us (another role, without pg_read_all_stats), the server-wide xmin stands for them.
# Autovacuum workers are left out: they never store events, yet an ANALYZE takes an id to write its statistics
# and, on a large table on a busy server, may run for seconds.
_HORIZON_XMAX = """
SELECT greatest(pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
                pg_current_xact_id_if_assigned()::text::bigint + 1), pg_stat_clear_snapshot()
"""
_HORIZON = """
WITH running AS (
    SELECT backend_xid AS xid FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
        AND backend_type <> 'autovacuum worker'
    UNION ALL
    SELECT transaction FROM pg_prepared_xacts WHERE database = current_database()
), hidden AS (
    SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query = '<insufficient privilege>'
        AND backend_type <> 'autovacuum worker'
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM hidden) THEN (
        SELECT pg_snapshot_xmin(s)::text::bigint
            + (pg_current_xact_id_if_assigned() IS NOT DISTINCT FROM pg_snapshot_xmin(s))::int
        FROM pg_current_snapshot() AS s)
    ELSE least(%(xmax)s, (SELECT min(%(xmax)s - ((%(xmax)s %% 4294967296 - xid::text::bigint + 4294967296)
                                                 %% 4294967296)) FROM running))
END
"""


def _horizon(cursor) -> int:
    """Events of transactions below this id have all finished (committed or rolled back)."""
    cursor.execute(_HORIZON_XMAX)
    xmax = cursor.fetchone()[0]
    cursor.execute(_HORIZON, {"xmax": xmax})
    return cursor.fetchone()[0]


# Per session, emptied by every commit (and by every batch: a batch may run inside an outer transaction).
# The batch's commit need not wait for the disk: if the server crashes before it is flushed, the whole
# batch is lost together (cursor and counters alike) and counted again, never twice. Its sorts and hashes
# (a few MB for a batch) stay in memory rather than spill to disk under the default 4 MB work_mem.
_TEMP_TABLES = f"""
CREATE TEMP TABLE IF NOT EXISTS tally_events (
    id bigint, site_id bigint, type text, ts timestamptz, visitor_id text, campaign_id bigint, variant_id bigint,
    url text, payload jsonb, day date, device text, source text, "returning" boolean, session_id text,
    {JOURNEY_CLAIM_COLUMNS}, {INSTALLATION_CLAIM_COLUMNS}
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tally_conversions (
    event_id bigint, campaign_id bigint, variant_id bigint, visitor_id text, day date, assignment_id bigint,
    value numeric, device text, source text, "returning" boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tally_counts (
    campaign_id bigint, variant_id bigint, day date, device text, source text, "returning" boolean,
    {", ".join(f"{name} numeric NOT NULL DEFAULT 0" for name in COUNTERS)}
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tally_assignments (
    id bigint, site_id bigint, campaign_id bigint, variant_id bigint, visitor_id text, first_exposed_at timestamptz,
    device text, source text, "returning" boolean, {", ".join(f"{field} date" for field in STEP_FIELD.values())},
    new boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS tally_settled (id bigint) ON COMMIT DELETE ROWS;
TRUNCATE tally_events, tally_conversions, tally_counts, tally_assignments, tally_settled;
SET LOCAL synchronous_commit = off;
SET LOCAL work_mem = '64MB';
"""

# The next events in commit order land in tally_events, with their day in the site's zone, their own segment
# (the assignment's replaces it once the visitor has one, see _SEGMENT_RESOLVED) and a page view's journey
# (journeys.py: read here, with the rest of the JSON, so the journey fold filters on a column); the cursor moves past
# them in the same statement. Only events of transactions older than the horizon (see _horizon): those have all
# finished, so none can commit behind the cursor later. The advisory lock keeps other tallies out, so the cursor
# row needs no row lock.
_CLAIM = f"""
WITH picked AS (  -- what the fold reads (responses and consent proof read the rest from the few events they copy)
    SELECT e.tx, e.id, e.site_id, e.type, e.ts, e.visitor_id, e.campaign_id, e.variant_id, e.url, e.payload, e.device,
        e.session_id, e.received_at, e.widget_version
    FROM {EVENTS} AS e
    WHERE (e.tx, e.id) > (SELECT c.last_tx, c.last_id FROM {CURSOR} AS c WHERE c.id = 1)
        AND e.tx < %(horizon)s
    ORDER BY e.tx, e.id LIMIT %(limit)s
), moved AS (
    UPDATE {CURSOR} AS c SET last_tx = last.tx, last_id = last.id
    FROM (SELECT tx, id FROM picked ORDER BY tx DESC, id DESC LIMIT 1) AS last WHERE c.id = 1
)
INSERT INTO tally_events
SELECT e.id, e.site_id, e.type, e.ts, e.visitor_id, e.campaign_id, e.variant_id, e.url, e.payload,
    (e.ts AT TIME ZONE coalesce(z.name, 'UTC'))::date,
    {DEVICE_SQL}, {SOURCE_SQL}, coalesce(e.payload -> 'segment' -> 'returning' = 'true'::jsonb, false), e.session_id,
    {JOURNEY_CLAIM_SQL}, {INSTALLATION_CLAIM_SQL}
FROM picked AS e LEFT JOIN {SITES} AS s ON s.id = e.site_id
LEFT JOIN unnest(%(zones)s::text[]) AS z(name) ON z.name = s.time_zone
"""

# 1. The first exposure or impression of a visitor to a campaign decides the assignment and its segment; new ones
# count as exposed. A new assignment is written with its impression step when that first event is an impression
# (the common case: one row per first impression), and with the steps its visitor reached before having one
# (FunnelStep rows, moved onto it; they were counted when written). Other steps of the batch are step 5's.
# Only the tally inserts assignments, one batch at a time (the advisory lock): those not there before this
# statement are exactly the ones it inserts. The event that makes a new assignment needs nothing more (its
# impression is counted here too): tally_settled lists it for the later statements to skip.
_ASSIGN = f"""
WITH visitor AS (  -- each visitor of the batch's campaign events, with their first exposure or impression if any
    SELECT DISTINCT ON (visitor_id COLLATE "C", campaign_id) id, type, site_id, campaign_id, variant_id, visitor_id,
        ts, day, {SEGMENT}, count(*) OVER (PARTITION BY visitor_id COLLATE "C", campaign_id) AS events
    FROM tally_events
    WHERE campaign_id IS NOT NULL AND visitor_id <> ''
    -- The visitor first, compared bytewise: the sort then tells most rows apart by their first bytes.
    ORDER BY visitor_id COLLATE "C", campaign_id, type NOT IN ('exposure', 'impression'), id
), known AS (  -- their assignments made by earlier batches, read once (segments, steps reached)
    INSERT INTO tally_assignments
    SELECT a.id, a.site_id, a.campaign_id, a.variant_id, a.visitor_id, a.first_exposed_at, {SEGMENT_OF_A},
        {", ".join(f"a.{field}" for field in STEP_FIELD.values())}, false
    FROM visitor AS v CROSS JOIN LATERAL (
        -- One probe of the unique index per visitor, whatever the estimates (OFFSET 0 keeps the planner from
        -- flattening it into a join): a hash join would read every assignment ever made, in every batch.
        SELECT * FROM {ASSIGNMENTS} AS a WHERE a.campaign_id = v.campaign_id AND a.visitor_id = v.visitor_id OFFSET 0
    ) AS a
    RETURNING campaign_id, visitor_id
), fresh AS (
    SELECT v.* FROM visitor AS v
    WHERE v.type IN ('exposure', 'impression')
        AND NOT EXISTS (SELECT 1 FROM known AS k WHERE k.campaign_id = v.campaign_id AND k.visitor_id = v.visitor_id)
), earlier AS (
    SELECT s.id, s.campaign_id, s.visitor_id, s.step, s.day
    FROM fresh AS f JOIN {STEPS} AS s ON s.campaign_id = f.campaign_id
        AND coalesce(s.variant_id, 0) = coalesce(f.variant_id, 0) AND s.visitor_id = f.visitor_id
), moved AS (
    DELETE FROM {STEPS} AS s USING earlier WHERE s.id = earlier.id
), carried AS (
    SELECT campaign_id, visitor_id,
        {", ".join(f"max(day) FILTER (WHERE step = '{step}') AS {field}" for step, field in STEP_FIELD.items())}
    FROM earlier GROUP BY campaign_id, visitor_id
), prepared AS (
    SELECT f.*, {", ".join(f"k.{field}" for field in STEP_FIELD.values() if field != STEP_FIELD[Step.IMPRESSION])},
        coalesce(k.impression_on, CASE WHEN f.type = 'impression' THEN f.day END) AS impression_on,
        f.type = 'impression' AND k.impression_on IS NULL AS impression_counted
    FROM fresh AS f LEFT JOIN carried AS k USING (campaign_id, visitor_id)
), new AS (
    INSERT INTO {ASSIGNMENTS} (site_id, campaign_id, variant_id, visitor_id, first_exposed_at, revenue, {SEGMENT},
        {", ".join(STEP_FIELD.values())})
    SELECT site_id, campaign_id, variant_id, visitor_id, ts, 0, {SEGMENT}, {", ".join(STEP_FIELD.values())}
    FROM prepared
    RETURNING id, site_id, campaign_id, variant_id, visitor_id, first_exposed_at, {SEGMENT},
        {", ".join(STEP_FIELD.values())}
), kept AS (  -- for the later statements, when they have something to read it for: the visitor's other events
    -- of the batch, or conversions counted before their exposure (3c)
    INSERT INTO tally_assignments SELECT n.*, true FROM new AS n
    WHERE EXISTS (SELECT 1 FROM prepared AS p WHERE p.campaign_id = n.campaign_id AND p.visitor_id = n.visitor_id
                  AND (p.events > 1 OR p.campaign_id = ANY(%(late)s::bigint[])))
), settled AS (
    INSERT INTO tally_settled SELECT id FROM prepared
)
INSERT INTO tally_counts (campaign_id, variant_id, day, {SEGMENT}, exposed, {STEP_COUNTER[Step.IMPRESSION]},
    {EVENT_COUNTER["impression"]})
SELECT campaign_id, variant_id, day, {SEGMENT}, count(*), count(*) FILTER (WHERE impression_counted),
    count(*) FILTER (WHERE type = 'impression')
FROM prepared GROUP BY campaign_id, variant_id, day, {SEGMENT}
"""

# Campaign events count under their visitor's segment, as the assignment (new or older) fixed it: a click in a
# later session, on another device, still counts under the segment of the first exposure. A visitor without an
# assignment: the event's own segment.
_SEGMENT_RESOLVED = 'coalesce(a.device, e.device) AS device, coalesce(a.source, e.source) AS source, ' \
    'coalesce(a."returning", e."returning") AS "returning"'

# 3a. Goals reached by an event on the campaign itself (a click, a submit): the event's variant converts.
_CONVERT_ON_CAMPAIGN = f"""
INSERT INTO tally_conversions (event_id, campaign_id, variant_id, visitor_id, day, {SEGMENT})
SELECT e.id, e.campaign_id, e.variant_id, e.visitor_id, e.day, {_SEGMENT_RESOLVED}
FROM tally_events AS e JOIN unnest(%(campaigns)s::bigint[], %(kinds)s::text[]) AS g(campaign_id, kind)
    ON g.campaign_id = e.campaign_id AND g.kind = e.type
LEFT JOIN tally_assignments AS a ON a.campaign_id = e.campaign_id AND a.visitor_id = e.visitor_id
"""

def _value_sql(alias: str) -> str:
    """A purchase's revenue: the JSON number rounded to cents half-to-even (as Decimal.quantize), if below the cap."""
    value = f"({alias}.payload ->> 'value')::numeric"
    return f"""CASE WHEN {alias}.type = 'conversion' AND jsonb_typeof({alias}.payload -> 'value') = 'number'
              AND abs(round({value}, 2)) < {MAX_REVENUE}
         THEN CASE WHEN abs({value} * 100 %% 1) = 0.5 THEN 2 * round({value} * 50) / 100 ELSE round({value}, 2) END
    END"""


# 3b. Pageviews and conversions reaching a goal of the site's campaigns, credited to the visitor's assignment
# when they came within the attribution window. URL goals arrive already matched, as (campaign, url) pairs.
_CONVERT_ATTRIBUTED = f"""
INSERT INTO tally_conversions (event_id, campaign_id, variant_id, visitor_id, day, assignment_id, {SEGMENT}, value)
SELECT b.id, g.campaign_id, a.variant_id, b.visitor_id, b.day, a.id, a.device, a.source, a."returning",
    {_value_sql("b")}
FROM tally_events AS b
JOIN unnest(%(sites)s::bigint[], %(campaigns)s::bigint[], %(types)s::text[], %(names)s::text[],
            %(seconds)s::float8[]) AS g(site_id, campaign_id, type, name, seconds)
    ON g.site_id = b.site_id
JOIN {ASSIGNMENTS} AS a ON a.campaign_id = g.campaign_id AND a.visitor_id = b.visitor_id
WHERE b.visitor_id <> '' AND b.type IN ('pageview', 'conversion')
    AND b.ts BETWEEN a.first_exposed_at AND a.first_exposed_at + g.seconds * interval '1 second'
    AND CASE WHEN g.type = 'url' THEN b.type = 'pageview' AND (g.campaign_id, b.url) IN (
                 SELECT * FROM unnest(%(url_campaigns)s::bigint[], %(urls)s::text[]))
             ELSE b.type = 'conversion' AND b.payload -> 'name' = to_jsonb(g.name) END
"""

# URL goals are matched by the rule engine in Python, once per distinct (campaign, url) that could convert.
_URL_CANDIDATES = f"""
SELECT DISTINCT g.campaign_id, b.url
FROM tally_events AS b JOIN unnest(%(sites)s::bigint[], %(campaigns)s::bigint[]) AS g(site_id, campaign_id)
    ON g.site_id = b.site_id
WHERE b.type = 'pageview' AND b.visitor_id <> ''
    AND EXISTS (SELECT 1 FROM {ASSIGNMENTS} AS a WHERE a.campaign_id = g.campaign_id AND a.visitor_id = b.visitor_id)
"""

# 3c. A visitor whose first exposure is counted in this batch, after a conversion of theirs already counted in an
# earlier one (the batches reached us out of order): that conversion is credited now, if it came within the
# attribution window. Only conversions behind the cursor and outside this batch: later ones are credited in
# their own batch, when the assignment exists. (URL goals are not looked back for: page views are many.)
_CONVERT_LATE = f"""
INSERT INTO tally_conversions (event_id, campaign_id, variant_id, visitor_id, day, assignment_id, {SEGMENT}, value)
SELECT e.id, n.campaign_id, n.variant_id, e.visitor_id, (e.ts AT TIME ZONE coalesce(z.name, 'UTC'))::date, n.id,
    n.device, n.source, n."returning", {_value_sql("e")}
FROM tally_assignments AS n
JOIN unnest(%(campaigns)s::bigint[], %(names)s::text[], %(seconds)s::float8[]) AS g(campaign_id, name, seconds)
    ON g.campaign_id = n.campaign_id
JOIN {EVENTS} AS e ON e.site_id = n.site_id AND e.visitor_id = n.visitor_id AND e.type = 'conversion'
LEFT JOIN {SITES} AS s ON s.id = e.site_id
LEFT JOIN unnest(%(zones)s::text[]) AS z(name) ON z.name = s.time_zone
WHERE e.payload -> 'name' = to_jsonb(g.name)
    AND e.ts BETWEEN n.first_exposed_at AND n.first_exposed_at + g.seconds * interval '1 second'
    AND (e.tx, e.id) <= (SELECT c.last_tx, c.last_id FROM {CURSOR} AS c WHERE c.id = 1)
    AND NOT EXISTS (SELECT 1 FROM tally_events AS b WHERE b.id = e.id) AND n.new
"""

# 3d. The assignments conversions were credited to, when not read yet (a page view or purchase has no campaign).
_KNOWN_CONVERTED = f"""
INSERT INTO tally_assignments
SELECT a.id, a.site_id, a.campaign_id, a.variant_id, a.visitor_id, a.first_exposed_at, a.device, a.source,
    a."returning", {", ".join(f"a.{field}" for field in STEP_FIELD.values())}, false
FROM {ASSIGNMENTS} AS a
WHERE a.id IN (SELECT c.assignment_id FROM tally_conversions AS c
               WHERE NOT EXISTS (SELECT 1 FROM tally_assignments AS t WHERE t.id = c.assignment_id))
"""

# 4. Conversions; each visitor's revenue added to their assignment, the counters getting the sum and the change
# of the squares (so the sum of squares stays per visitor). A batch's revenue lands on its last conversion's day.
# A campaign's revenue cap applies to the visitor's running total (GrowthBook's absolute capping per user): the
# counters get the change of min(total, cap), so a visitor adds at most the cap to the sum and its square to the
# squares, however many or large their purchases (least() ignores a NULL cap).
_CONVERSION_COUNTS = f"""
INSERT INTO tally_counts (campaign_id, variant_id, day, {SEGMENT}, conversions)
SELECT campaign_id, variant_id, day, {SEGMENT}, count(*) FROM tally_conversions
GROUP BY campaign_id, variant_id, day, {SEGMENT}
"""
_REVENUE = f"""
WITH delta AS (
    SELECT assignment_id, campaign_id, variant_id, {SEGMENT}, sum(value) AS amount,
        (array_agg(day ORDER BY event_id DESC))[1] AS day
    FROM tally_conversions WHERE value <> 0 GROUP BY assignment_id, campaign_id, variant_id, {SEGMENT}
), updated AS (
    UPDATE {ASSIGNMENTS} AS a SET revenue = a.revenue + delta.amount FROM delta
    WHERE a.id = delta.assignment_id RETURNING a.id, a.revenue
)
INSERT INTO tally_counts (campaign_id, variant_id, day, {SEGMENT}, revenue_sum, revenue_sum_squares)
SELECT d.campaign_id, d.variant_id, d.day, d.device, d.source, d."returning",
    least(u.revenue, c.revenue_cap) - least(u.revenue - d.amount, c.revenue_cap),
    least(u.revenue, c.revenue_cap) ^ 2 - least(u.revenue - d.amount, c.revenue_cap) ^ 2
FROM delta AS d JOIN updated AS u ON u.id = d.assignment_id
LEFT JOIN {Campaign._meta.db_table} AS c ON c.id = d.campaign_id
"""

# 5. Funnel steps, each on the day of the batch's first event that reached it and under the segment that event
# carries (its visitor's assignment's). A step on the visitor's assigned variant fills its Assignment field if
# empty; any other (another variant, or no assignment yet) is an insert-if-absent FunnelStep row. What is new counts.
# The batch's campaign events are read once, with their visitor's assignment, for both the event counts (2.) and
# the steps.
_STEP_BEFORE = "CASE s.step " + " ".join(f"WHEN '{step}' THEN e.{field}" for step, field in STEP_FIELD.items()) + " END"
_STEPS = f"""
WITH joined AS (
    SELECT e.id, e.type, e.campaign_id, e.variant_id, e.visitor_id, e.day, {_SEGMENT_RESOLVED}, a.id AS assignment_id,
        a.variant_id AS assigned_variant_id, {", ".join(f"a.{field}" for field in STEP_FIELD.values())}
    FROM tally_events AS e
    LEFT JOIN tally_assignments AS a ON a.campaign_id = e.campaign_id AND a.visitor_id = e.visitor_id
    WHERE e.campaign_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tally_settled AS t WHERE t.id = e.id)
), counted_events AS (  -- 2. Events counted as they come.
    INSERT INTO tally_counts (campaign_id, variant_id, day, {SEGMENT}, {", ".join(EVENT_COUNTER.values())})
    SELECT campaign_id, variant_id, day, {SEGMENT},
        {", ".join(f"count(*) FILTER (WHERE type = '{kind}')" for kind in EVENT_COUNTER)}
    FROM joined WHERE type IN ({", ".join(f"'{kind}'" for kind in EVENT_COUNTER)})
    GROUP BY campaign_id, variant_id, day, {SEGMENT}
), reached AS (
    SELECT e.campaign_id, s.variant_id, e.visitor_id, s.step, e.day, e.id, {SEGMENT},
        CASE WHEN coalesce(e.assigned_variant_id, 0) = coalesce(s.variant_id, 0) THEN e.assignment_id END
            AS assignment_id,
        {_STEP_BEFORE} AS before
    FROM joined AS e
    CROSS JOIN LATERAL (
        SELECT e.variant_id, step FROM unnest(CASE e.type WHEN 'impression' THEN ARRAY['{Step.IMPRESSION}']
            WHEN 'click' THEN ARRAY['{Step.ENGAGED}'] WHEN 'submit' THEN ARRAY['{Step.ENGAGED}', '{Step.SUBMIT}']
        END) AS step
        UNION ALL  -- a visitor shown a variant other than their assigned one: once per visitor, under the assigned one
        SELECT e.assigned_variant_id, '{Step.MIXED}'
        WHERE e.type IN ('exposure', 'impression') AND e.assignment_id IS NOT NULL
            AND coalesce(e.variant_id, 0) <> coalesce(e.assigned_variant_id, 0)
    ) AS s
    WHERE e.type IN ('exposure', 'impression', 'click', 'submit')
    UNION ALL
    SELECT c.campaign_id, c.variant_id, c.visitor_id, '{Step.CONVERTED}', c.day, c.event_id, c.device, c.source,
        c."returning", CASE WHEN coalesce(a.variant_id, 0) = coalesce(c.variant_id, 0) THEN a.id END, a.converted_on
    FROM tally_conversions AS c LEFT JOIN tally_assignments AS a
        ON a.campaign_id = c.campaign_id AND a.visitor_id = c.visitor_id
), placed AS (  -- steps the assignment holds already go first (all of a key share the assignment and the step)
    SELECT * FROM reached WHERE assignment_id IS NULL OR before IS NULL
), earliest AS (
    SELECT DISTINCT ON (campaign_id, coalesce(variant_id, 0), visitor_id, step) * FROM placed
    ORDER BY campaign_id, coalesce(variant_id, 0), visitor_id, step, id
), filled AS (
    SELECT * FROM earliest WHERE assignment_id IS NOT NULL
), updated AS (
    UPDATE {ASSIGNMENTS} AS a
    SET {", ".join(f"{field} = coalesce(a.{field}, f.{field})" for field in STEP_FIELD.values())}
    FROM (SELECT assignment_id,
              {", ".join(f"max(day) FILTER (WHERE step = '{step}') AS {field}" for step, field in STEP_FIELD.items())}
          FROM filled GROUP BY assignment_id) AS f
    WHERE a.id = f.assignment_id
), new AS (
    INSERT INTO {STEPS} (campaign_id, variant_id, visitor_id, step, day)
    SELECT campaign_id, variant_id, visitor_id, step, day FROM earliest WHERE assignment_id IS NULL
    ORDER BY campaign_id, coalesce(variant_id, 0), visitor_id, step
    ON CONFLICT (campaign_id, COALESCE(variant_id, 0), visitor_id, step) DO NOTHING
    RETURNING campaign_id, variant_id, visitor_id, step
), counted AS (
    SELECT campaign_id, variant_id, step, day, {SEGMENT} FROM filled
    UNION ALL
    SELECT e.campaign_id, e.variant_id, e.step, e.day, e.device, e.source, e."returning"
    FROM new AS n JOIN earliest AS e ON e.campaign_id = n.campaign_id
        AND coalesce(e.variant_id, 0) = coalesce(n.variant_id, 0) AND e.visitor_id = n.visitor_id AND e.step = n.step
)
INSERT INTO tally_counts (campaign_id, variant_id, day, {SEGMENT}, {", ".join(STEP_COUNTER.values())})
SELECT campaign_id, variant_id, day, {SEGMENT},
    {", ".join(f"count(*) FILTER (WHERE step = '{step}')" for step in STEP_COUNTER)}
FROM counted GROUP BY campaign_id, variant_id, day, {SEGMENT}
"""

# 6. Everything the batch added to the daily counters, in one upsert, rows locked in key order.
_COUNTERS = f"""
INSERT INTO {STATS} (campaign_id, variant_id, day, {SEGMENT}, {", ".join(COUNTERS)})
SELECT campaign_id, variant_id, day, {SEGMENT}, {", ".join(f"sum({name})" for name in COUNTERS)}
FROM tally_counts GROUP BY campaign_id, variant_id, day, {SEGMENT}
ORDER BY campaign_id, coalesce(variant_id, 0), day, {SEGMENT}
ON CONFLICT (campaign_id, COALESCE(variant_id, 0), day, {SEGMENT}) DO UPDATE SET
    {", ".join(f"{name} = {STATS}.{name} + EXCLUDED.{name}" for name in COUNTERS)}
"""


def tally_batch(*, batch_size: int) -> int:
    """Claim up to batch_size events past the cursor and fold them, step by step; returns how many were claimed."""
    with connection.cursor() as cursor:
        tables_prepare(cursor)
        claimed = events_claim(cursor, limit=batch_size)
        if not claimed:
            return 0
        bots_screen(cursor)
        goals = goals_read(cursor)
        assignments_make(cursor, goals)  # 1.
        conversions_on_campaign(cursor, goals)  # 3a.
        attributed = [(site_id, goal) for site_id, goal in goals if goal.type in ATTRIBUTED_GOALS]
        if attributed:
            matched = url_goals_match(cursor, attributed)
            conversions_late(cursor, attributed)  # 3c.
            conversions_attributed(cursor, attributed, matched)  # 3b.
        converted_assignments_read(cursor)  # 3d.
        conversions_count(cursor)  # 4.
        revenue_add(cursor)  # 4.
        steps_count(cursor)  # 2. and 5.
        journeys_fold(cursor)  # 7. the journey map's tables (journeys.py)
        installation_fold(cursor)  # 8. what the installation check reads (installation.py)
        audiences_fold(cursor)  # 9. the daily audience counters (audiences.py)
    consent_events = records_keep()
    counters_write()  # 6.
    denials_erase(consent_events)
    return claimed


def tables_prepare(cursor) -> None:
    cursor.execute(_TEMP_TABLES)


def events_claim(cursor, *, limit: int) -> int:
    """The next events in commit order into tally_events, the cursor moved past them; returns how many."""
    horizon = _horizon(cursor)
    cursor.execute(_CLAIM, {"limit": limit, "zones": list(known_zones()), "horizon": horizon})
    return cursor.rowcount


def bots_screen(cursor) -> None:
    """Submits refused as a bot's (forms.py) leave the batch before anything counts them."""
    cursor.execute("SELECT id FROM tally_events WHERE type = 'submit' AND campaign_id IS NOT NULL")
    submits = [row[0] for row in cursor.fetchall()]
    refused = submits_screen(event_ids=submits) if submits else set()
    if refused:
        cursor.execute("DELETE FROM tally_events WHERE id = ANY(%s)", [list(refused)])


def goals_read(cursor) -> list[tuple[int, Goal]]:
    """(site, goal) of every campaign of the batch's sites."""
    cursor.execute(
        f"SELECT c.id, c.site_id, c.goal FROM {Campaign._meta.db_table} AS c"
        " WHERE c.site_id IN (SELECT DISTINCT site_id FROM tally_events)"
    )
    return [(site_id, goal) for campaign_id, site_id, raw in cursor.fetchall()
            if (goal := goal_parse(campaign_id=campaign_id, raw=json.loads(raw) if isinstance(raw, str) else raw))
            is not None]


def assignments_make(cursor, goals: list[tuple[int, Goal]]) -> None:
    """1. New assignments from first exposures and impressions; the batch's visitors' older ones read."""
    cursor.execute(_ASSIGN, {"late": [goal.campaign_id for _site, goal in goals if goal_looks_back(goal)]})


def conversions_on_campaign(cursor, goals: list[tuple[int, Goal]]) -> None:
    """3a. Clicks and submits that reach their own campaign's goal."""
    on_campaign = [goal for _site, goal in goals if goal.type in EVENT_GOAL_OF]
    if on_campaign:
        cursor.execute(_CONVERT_ON_CAMPAIGN, {
            "campaigns": [goal.campaign_id for goal in on_campaign],
            "kinds": [EVENT_GOAL_OF[goal.type] for goal in on_campaign],
        })


def url_goals_match(cursor, attributed: list[tuple[int, Goal]]) -> list[tuple[int, str]]:
    """(campaign, url) pairs of the batch's page views that reach a URL goal, matched by the rule engine."""
    url_goals = {goal.campaign_id: (site_id, goal) for site_id, goal in attributed
                 if goal.type == "url" and goal.url_rule is not None}
    if not url_goals:
        return []
    cursor.execute(_URL_CANDIDATES, {
        "sites": [site_id for site_id, _goal in url_goals.values()], "campaigns": list(url_goals),
    })
    return [(campaign_id, url) for campaign_id, url in cursor.fetchall() if url_reached(url_goals[campaign_id][1], url)]


def conversions_late(cursor, attributed: list[tuple[int, Goal]]) -> None:
    """3c. Conversions counted before their visitor's first exposure, which this batch made."""
    late = [goal for _site, goal in attributed if goal_looks_back(goal)]
    if late:
        cursor.execute(_CONVERT_LATE, {
            "campaigns": [goal.campaign_id for goal in late], "names": [goal.event_name for goal in late],
            "seconds": [goal.attribution.total_seconds() for goal in late], "zones": list(known_zones()),
        })


def conversions_attributed(cursor, attributed: list[tuple[int, Goal]], matched: list[tuple[int, str]]) -> None:
    """3b. Page views and conversions within the attribution window of an assignment."""
    cursor.execute(_CONVERT_ATTRIBUTED, {
        "sites": [site_id for site_id, _goal in attributed],
        "campaigns": [goal.campaign_id for _site, goal in attributed],
        "types": [goal.type for _site, goal in attributed],
        "names": [goal.event_name for _site, goal in attributed],
        "seconds": [goal.attribution.total_seconds() for _site, goal in attributed],
        "url_campaigns": [campaign_id for campaign_id, _url in matched],
        "urls": [url for _campaign_id, url in matched],
    })


def converted_assignments_read(cursor) -> None:
    """3d. The assignments conversions were credited to, when not read yet."""
    cursor.execute(_KNOWN_CONVERTED)


def conversions_count(cursor) -> None:
    """4. The conversions counted."""
    cursor.execute(_CONVERSION_COUNTS)


def revenue_add(cursor) -> None:
    """4. Each converting visitor's revenue added to their assignment and, capped, to the counters."""
    cursor.execute(_REVENUE)


def steps_count(cursor) -> None:
    """2. and 5. The batch's campaign events counted, and the funnel steps they reached recorded and counted."""
    cursor.execute(_STEPS)


def records_keep() -> list[dict]:
    """Responses and consent proof: copies of the few submit and consent events (records.py builds them for both
    folds). Returns the consent events, for the erasures their denials ask for."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'e.{name}' for name in RECORD_COLUMNS)} FROM {EVENTS} AS e WHERE e.id IN ("
            "SELECT b.id FROM tally_events AS b"
            " WHERE b.type = 'consent' OR (b.type = 'submit' AND b.campaign_id IS NOT NULL)) ORDER BY e.id"
        )
        events = [dict(zip(RECORD_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for event in events:
        if isinstance(event["payload"], str):  # Django reads jsonb as text; the fields decode it
            event["payload"] = json.loads(event["payload"])
    responses = [r for e in events if e["type"] == "submit" and (r := response_of(e)) is not None]
    consents = [c for e in events if e["type"] == "consent" and (c := consent_of(e)) is not None]
    if responses:
        Response.objects.bulk_create(responses, ignore_conflicts=True)
    if consents:
        ConsentRecord.objects.bulk_create(consents, ignore_conflicts=True)
    return [e for e in events if e["type"] == "consent"]


def counters_write() -> None:
    """6. The last write of a batch, in its transaction: what it added to the daily counters."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNTERS)
