from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "widget.demo"
    label = "demo"
