"""The demo shop: a small site that embeds the widget snippet exactly as a customer's site would (its own app, so
its pages, templates, static files and seed command live together and `campaigns` never imports it)."""

DEMO_SITE_NAME = "Demo shop"
