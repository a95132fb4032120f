"""REST API for data-subject requests on one of the caller's sites: export and erase a person's data by visitor id
or e-mail address, and the log of requests. Another owner's site answers 404 and nothing is logged.

The look-up travels in a POST body, never in the URL, so that it does not land in access logs.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from campaigns.api.errors import api_error
from campaigns.models import DataRequest, Site
from campaigns.selectors.access import sites_for_user
from campaigns.selectors.visitor_data import MAX_INPUT_LENGTH, LookupInvalid, visitors_erased
from campaigns.services.visitor_data import VisitorDataBusy, visitor_data_erase, visitor_data_export

TAG = "privacy"
SITE_NOT_FOUND = "No such site."
INVALID_LOOKUP = "invalid_lookup"
BUSY = "busy"
RETRY_AFTER_SECONDS = 60
LOG_LIMIT = 100


def _site_or_404(*, user, pk: int) -> Site:
    site = sites_for_user(user=user).filter(pk=pk).first()
    if site is None:
        raise NotFound(SITE_NOT_FOUND)
    return site


class LookupInput(serializers.Serializer):
    visitor_id = serializers.CharField(required=False, allow_blank=True, max_length=MAX_INPUT_LENGTH, default="",
                                       help_text="The visitor id the widget stored.")
    email = serializers.CharField(required=False, allow_blank=True, max_length=MAX_INPUT_LENGTH, default="",
                                  help_text="An e-mail address sent in a form; its visitors' data comes along.")


class ErrorOutput(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()


class CountsOutput(serializers.Serializer):
    events = serializers.IntegerField()
    assignments = serializers.IntegerField()
    funnel_steps = serializers.IntegerField()
    responses = serializers.IntegerField()
    consent_records = serializers.IntegerField()
    journey_sessions = serializers.IntegerField()
    journey_stages = serializers.IntegerField()


class DataRequestOutput(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DataRequest
        fields = ("id", "created_at", "action", "lookup", "channel", "requested_by", "lookup_hash", "visitors",
                  "found", "erased")


class EraseOutput(serializers.Serializer):
    request = serializers.IntegerField(help_text="The DataRequest logged for it.")
    visitors = serializers.IntegerField(help_text="Visitor ids whose data was erased.")
    found = CountsOutput()
    erased = CountsOutput(help_text="Consent records are kept, without their visitor link.")
    visitors_erased_on_site = serializers.IntegerField()


class LogOutput(serializers.Serializer):
    visitors_erased = serializers.IntegerField(help_text="Visitors erased on this site so far (results keep their "
                                               "counts; one who returns counts as a new visitor).")
    requests = DataRequestOutput(many=True, help_text=f"The latest {LOG_LIMIT} requests, newest first.")


LOOKUP_ERRORS = {
    400: OpenApiResponse(ErrorOutput, examples=[OpenApiExample("Both given", value={
        "error": INVALID_LOOKUP, "detail": "give exactly one of a visitor id or an e-mail address"})]),
}


def _invalid(detail: str) -> ApiResponse:
    return api_error(400, INVALID_LOOKUP, detail)


def _lookup(request) -> tuple[dict | None, ApiResponse | None]:
    data = LookupInput(data=request.data)
    if not data.is_valid():
        field, errors = next(iter(data.errors.items()))
        return None, _invalid(f"{field}: {errors[0]}")
    return dict(data.validated_data), None


class SiteVisitorDataApi(APIView):
    @extend_schema(tags=[TAG], responses=LogOutput, summary="Data requests answered on a site, and how many "
                   "visitors were erased")
    def get(self, request, pk: int):
        site = _site_or_404(user=request.user, pk=pk)
        requests = DataRequest.objects.filter(site=site).select_related("requested_by")[:LOG_LIMIT]
        return ApiResponse(LogOutput({"visitors_erased": visitors_erased(site_id=site.id),
                                      "requests": requests}).data)


class SiteVisitorDataExportApi(APIView):
    @extend_schema(tags=[TAG], request=LookupInput, responses={200: OpenApiTypes.OBJECT, **LOOKUP_ERRORS},
                   summary="Export everything stored for one person on a site (one JSON document; logged)")
    def post(self, request, pk: int):
        site = _site_or_404(user=request.user, pk=pk)
        lookup, error = _lookup(request)
        if error is not None:
            return error
        try:
            _logged, export = visitor_data_export(site=site, requested_by=request.user,
                                                  channel=DataRequest.Channel.API, **lookup)
        except LookupInvalid as invalid:
            return _invalid(str(invalid))
        return ApiResponse(export)


class SiteVisitorDataEraseApi(APIView):
    @extend_schema(
        tags=[TAG], request=LookupInput,
        responses={200: EraseOutput, **LOOKUP_ERRORS,
                   503: OpenApiResponse(ErrorOutput, description="The tally kept its lock; retry after Retry-After.")},
        summary="Erase one person's data on a site (raw events, assignments, funnel steps, responses; consent "
                "records kept without their visitor link; counters unchanged; logged)",
    )
    def post(self, request, pk: int):
        site = _site_or_404(user=request.user, pk=pk)
        lookup, error = _lookup(request)
        if error is not None:
            return error
        try:
            done = visitor_data_erase(site=site, requested_by=request.user, channel=DataRequest.Channel.API,
                                      **lookup)
        except LookupInvalid as invalid:
            return _invalid(str(invalid))
        except VisitorDataBusy as busy:
            return api_error(503, BUSY, str(busy), headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return ApiResponse(EraseOutput({
            "request": done.id, "visitors": done.visitors, "found": done.found, "erased": done.erased,
            "visitors_erased_on_site": visitors_erased(site_id=site.id),
        }).data)
