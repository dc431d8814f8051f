"""The ODA dispatcher's Django project: settings, URLs, authentication, the service commands."""

__version__ = "1.0.0"
