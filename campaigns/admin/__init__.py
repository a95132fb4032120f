"""The Django admin, one module per concern; importing the package (Django's autodiscovery) registers them all.

base.py: owner scoping and read-only evidence; campaigns.py: sites and campaigns; results.py: the results pages
of a campaign; journeys.py (and journey_forms.py): a site's journey map and its groups editor; evidence.py:
read-only responses, consent proof and refusals; data_requests.py: data-subject requests; assets.py: lead magnet files;
overview.py: the front page, which retarget/urls.py mounts at /admin/ in front of Django's index.
audiences.py: a site's audiences.
"""

from campaigns.admin import assets, audiences, campaigns, data_requests, evidence  # noqa: F401
