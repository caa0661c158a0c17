"""Django's messages, with the storage made only when a request uses it.

MessageMiddleware builds its storage (a signed-cookie reader and the session
one behind it) for every request, and saves it on the way out. Most requests
here never touch messages: the JSON API, the HTMX polls, /healthz. This
middleware hands them a lazy storage instead, made on first use (adding a
message, or a page listing them), and saves only a storage that was made.
"""

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.utils.functional import SimpleLazyObject, empty


class LazyMessageMiddleware(MessageMiddleware):
    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
            return response  # never used: nothing to read or save
        return super().process_response(request, response)
