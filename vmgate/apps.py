from django.apps import AppConfig


class VmgateConfig(AppConfig):
    name = "vmgate"
    verbose_name = "VMGate tenancy"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from vmgate.session_idle import touch_at_login

        user_logged_in.connect(touch_at_login, dispatch_uid="vmgate.session_idle")

        from simple_history.signals import pre_create_historical_record

        from vmgate.imports import tag_history

        pre_create_historical_record.connect(tag_history, dispatch_uid="vmgate.imports")
