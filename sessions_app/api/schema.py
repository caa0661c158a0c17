"""OpenAPI 3.1 description of the API (drf-spectacular).

Every operation documents the problem+json answers it can give: those named
on the view with ``problems(...)`` plus the ones any endpoint can give
(authentication, content negotiation, malformed input, throttling, a body too
large, a dependency down), so the schema matches what the API really sends.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_basic_type, build_parameter_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from .problems import PROBLEM_CONTENT_TYPE
from .serializers import ProblemSerializer, VersionMismatchProblemSerializer


class ProfileJWTScheme(SimpleJWTScheme):
    """Document our JWT authentication (simplejwt's, with the profile joined) as bearer JWT."""

    target_class = "sessions_app.api.authentication.ProfileJWTAuthentication"


PROBLEM_DESCRIPTIONS = {
    400: "A business rule refused it (timing, wrong state, self-confirmation).",
    401: "Not authenticated, or the token is not valid.",
    403: "Not a participant (or CSRF failed for a cookie-authenticated request).",
    404: "No such resource.",
    405: "Method not allowed.",
    406: "None of the accepted media types can be produced.",
    409: "Conflict: already done, or another session is in progress.",
    412: "If-Match did not match the current version; the body has current_version and current_notes.",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
    422: "Malformed input; `errors` names each field.",
    429: "Throttled; see Retry-After.",
    503: "A service the API depends on is unavailable; nothing was changed.",
}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Repeat a mutation safely: the first answer is replayed for 24 hours. "
                "The same key with a different body is 422.",
    pattern=r"^[ -~]{1,255}$",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match", str, OpenApiParameter.HEADER, required=False,
    description="An ETag from an earlier read: 304 when the session has not changed.",
)
ETAG = OpenApiParameter(
    "ETag", str, OpenApiParameter.HEADER, response=[200, 201, 304],
    description="The session's version and what you may do now: send it back in If-None-Match or If-Match.",
)
IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description="The ETag (or version number) the edit is based on: 412 when the session has changed since.",
)


# Problems whose body carries more than the common members.
PROBLEM_BODIES = {412: VersionMismatchProblemSerializer}


def problems(*statuses: int) -> dict:
    """``responses`` entries for these problem statuses."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(PROBLEM_BODIES.get(status, ProblemSerializer),
                                                        description=PROBLEM_DESCRIPTIONS[status])
        for status in statuses
    }


UUID_PATH_VARIABLES = {"id", "pk", "session_id"}


class AutoSchema(SpectacularAutoSchema):
    """Adds the problem answers every endpoint can give to each operation; ids in paths are UUIDs."""

    def _resolve_path_parameters(self, variables):
        ids = [v for v in variables if v in UUID_PATH_VARIABLES]
        parameters = super()._resolve_path_parameters([v for v in variables if v not in UUID_PATH_VARIABLES])
        return parameters + [
            build_parameter_type(name=name, location=OpenApiParameter.PATH, schema=build_basic_type(OpenApiTypes.UUID),
                                 description="A UUID; anything else is 422.")
            for name in ids
        ]

    def _get_response_bodies(self, direction="response"):
        # extend_schema replaces get_response_serializers, so the common answers are added here.
        responses = super()._get_response_bodies(direction)
        common = [401, 405, 406, 503]
        if self.method in ("POST", "PUT", "PATCH"):
            common += [413, 415, 422]
        if self.method == "GET" and self._is_list_view() and self._get_paginator():
            common.append(422)
        action = getattr(self.view, "action", None)
        if getattr(self.view, "throttle_scope", None) or action in getattr(self.view, "throttle_scopes", {}):
            common.append(429)
        for status in sorted(set(common)):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    OpenApiResponse(ProblemSerializer, description=PROBLEM_DESCRIPTIONS[status]),
                    str(status), [PROBLEM_CONTENT_TYPE], direction,
                )
        return dict(sorted(responses.items()))
