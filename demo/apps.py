from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a first look (``manage.py seed_demo``). The top layer: it builds its data
    through every other app's services, and nothing imports it."""

    name = "demo"
