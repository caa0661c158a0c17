"""Limit/offset pages with the envelope {count, next, previous, results}."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 2**31 - 1


class Pagination(LimitOffsetPagination):
    """DRF's limit/offset, strict: a limit or offset that is not a sane number is 422, not ignored."""

    default_limit = 20
    max_limit = 100

    def _number(self, request, name: str, *, minimum: int, maximum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:  # present but empty is malformed, like any other filter
            return None
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 12) or not minimum <= int(raw) <= maximum:
            raise ValidationError({name: [f"Must be a whole number from {minimum} to {maximum}."]})
        return int(raw)

    def get_limit(self, request):
        limit = self._number(request, self.limit_query_param, minimum=1, maximum=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return self._number(request, self.offset_query_param, minimum=0, maximum=MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            bounds = {"limit": (1, self.max_limit), "offset": (0, MAX_OFFSET)}[parameter["name"]]
            parameter["schema"].update(minimum=bounds[0], maximum=bounds[1])
        return parameters
