from django.apps import AppConfig


class VmgateConfig(AppConfig):
    name = "vmgate"
    verbose_name = "VMGate tenancy"
