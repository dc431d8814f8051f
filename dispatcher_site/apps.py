from django.apps import AppConfig


class DispatcherSiteConfig(AppConfig):
    name = "dispatcher_site"
    verbose_name = "Dispatcher"
