"""The template gallery: complete campaigns to start from (catalog/), the service that makes a draft of one
(services.py), the admin page that lists them (admin_views.py) and their pictures (thumbnails.py)."""
