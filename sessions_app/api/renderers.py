"""Renderers beyond DRF's JSON and browsable API."""

from rest_framework.renderers import BaseRenderer


class ICalendarRenderer(BaseRenderer):
    """Lets clients ask for text/calendar; the view hands it the finished bytes."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""
