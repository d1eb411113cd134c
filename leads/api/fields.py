"""The API's strict input fields now live with the project-wide API plumbing (config.api),
so that every app's API can use them without importing leads."""

from config.api import RejectUnknownFieldsMixin, StrictCharField

__all__ = ["RejectUnknownFieldsMixin", "StrictCharField"]
