from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        # Every write this process sends makes the routing index poll its change log
        # before the next decision (same-process edits are seen immediately).
        from django.db import connections
        from django.db.backends.signals import connection_created

        from routing.engine.index import install_write_watcher

        connection_created.connect(install_write_watcher, dispatch_uid="routing-write-watcher")
        for conn in connections.all(initialized_only=True):
            install_write_watcher(connection=conn)
