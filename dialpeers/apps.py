from django.apps import AppConfig


class DialpeersConfig(AppConfig):
    name = "dialpeers"
