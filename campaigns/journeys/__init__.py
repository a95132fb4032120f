"""The customer journey map: page paths cleaned and grouped, journey stages, behaviour flows and the stage funnel.

Counts are kept by cleaned path (campaigns/models/journeys.py says how the tally fills them); page groups and
stages are applied when the map is read, so editing a group keeps its history. The modules here are plain data in,
answers out (no ORM, no request), except `services.py` (a site's groups and clean-up rules, read and written),
`selectors.py` (the counters read back for the map, filtered by days and segment) and `demo.py` (the demo shop's
configuration, applied through the services):

- `paths.py`: `path_clean` (a page URL as the map counts it), `group_of` and `label_of` (the group a path is in);
- `suggest.py`: groups, stages and clean-up rules suggested from the URLs seen;
- `flow.py`: behaviour flows (from entry pages, from a chosen page, backwards from a goal), entry and exit tables;
- `transitions.py`: one page, the pages before it (and entries) and after it (and exits), at any step;
- `funnel.py`: the stage funnel (visitors per stage, conversion to the next, median time between them);
- `sankey.py`: a flow as a server-rendered SVG Sankey diagram, readable without JavaScript.
"""
