"""REST API for results: A/B results, NPS, feedback, leads and consent reports, CSV exports, the calculator.

Thin views: filters in (an Input serializer), one selector out (campaigns/results/campaign.py, reports.py,
exports.py), so the JSON holds the same numbers as the admin pages. Every campaign and site is
looked up among the caller's own: anything else answers 404.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from campaigns.api.errors import api_error
from campaigns.models import Campaign, Response
from campaigns.results import calculator, exports, reports
from campaigns.results.campaign import ResultsFilter, campaign_results
from campaigns.selectors.access import campaigns_for_user, sites_for_user
from campaigns.selectors.visitor_data import visitors_erased
from campaigns.tally.segments import DEVICES, SOURCE_MAX_LENGTH, source_normalize

TAG = "results"
INVALID_SPEC = "invalid_spec"
NOT_FOUND = "No such campaign."
INVALID_JSON = "spec: not valid JSON"

RANGE_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, description="First day (site's time zone), inclusive."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Last day (site's time zone), inclusive."),
]
SEARCH_PARAMETER = OpenApiParameter("search", OpenApiTypes.STR, description="Text to look for (case-insensitive).")
SEGMENT_PARAMETERS = [
    OpenApiParameter("device", OpenApiTypes.STR, enum=DEVICES,
                     description="Only visitors on this device (from the User-Agent of their first exposure)."),
    OpenApiParameter("source", OpenApiTypes.STR, description=(
        "Only visitors from this traffic source at their first exposure: `utm_source/utm_medium` (\"google/cpc\"), "
        "the referrer's host, \"direct\" or \"other\"; compared lowercased.")),
    OpenApiParameter("returning", OpenApiTypes.BOOL,
                     description="true: only returning visitors, false: only new ones (at their first exposure)."),
]


def campaign_for_user_or_404(*, user, pk: int) -> Campaign:
    campaign = campaigns_for_user(user=user).select_related("site").filter(pk=pk).first()
    if campaign is None:
        raise NotFound(NOT_FOUND)
    return campaign


class RangeInput(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "must be on or after since"})
        return attrs


class SegmentInput(serializers.Serializer):
    device = serializers.ChoiceField(choices=DEVICES, required=False)
    source = serializers.CharField(required=False, allow_blank=True, max_length=SOURCE_MAX_LENGTH)
    returning = serializers.BooleanField(required=False, allow_null=True)  # absent: any (not false)

    def validate_source(self, value: str) -> str | None:
        return source_normalize(value) if value.strip() else None

    def segment(self) -> dict:
        return {name: value for name in ("device", "source", "returning")
                if (value := self.validated_data.get(name)) is not None}


class ResultsInput(RangeInput, SegmentInput):
    mde = serializers.FloatField(required=False, min_value=0.001, max_value=1.0)


def _report_filter(request) -> reports.ReportFilter:
    data = RangeInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    return reports.ReportFilter(since=data.validated_data.get("since"), until=data.validated_data.get("until"),
                                search=data.validated_data.get("search", ""))


# --- Output shapes (documentation and the exact fields sent) ---

class WarningOutput(serializers.Serializer):
    code = serializers.CharField()
    arm = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class CalculatorArmOutput(serializers.Serializer):
    """Control: name, visitors, value. Variants add the comparison; fields per engine (docs/stats.md)."""

    name = serializers.CharField()
    visitors = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True)
    expected = serializers.FloatField(allow_null=True, required=False)
    ci = serializers.ListField(child=serializers.FloatField(), allow_null=True, required=False)
    error = serializers.CharField(allow_null=True, required=False)
    p_value = serializers.FloatField(allow_null=True, required=False)
    p_value_adjusted = serializers.FloatField(allow_null=True, required=False)
    chance_to_win = serializers.FloatField(allow_null=True, required=False)
    risk = serializers.ListField(child=serializers.FloatField(), allow_null=True, required=False)
    chance_to_be_best = serializers.FloatField(allow_null=True, required=False)

    def to_representation(self, instance):
        # As the calculator and `manage.py abcalc`: a field the arm does not have is absent, not null.
        return {k: v for k, v in super().to_representation(instance).items() if k in instance}


class SampleSizeOutput(serializers.Serializer):
    per_arm = serializers.IntegerField(allow_null=True)
    remaining = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    remaining_total = serializers.IntegerField(allow_null=True)
    alpha = serializers.FloatField()
    power = serializers.FloatField()


class CalculatorOutput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=["binomial", "mean"])
    engine = serializers.ChoiceField(choices=["frequentist", "bayesian"])
    difference = serializers.ChoiceField(choices=["relative", "absolute"])
    srm_p_value = serializers.FloatField(allow_null=True)
    arms = CalculatorArmOutput(many=True)
    warnings = WarningOutput(many=True)
    sample_size = SampleSizeOutput(required=False)


class ComparisonOutput(CalculatorOutput):
    spec = serializers.JSONField(
        help_text="The calculator spec these numbers come from (POST it to /api/stats/calculate)."
    )


class FunnelOutput(serializers.Serializer):
    exposed = serializers.IntegerField()
    impression_visitors = serializers.IntegerField()
    engaged_visitors = serializers.IntegerField()
    submit_visitors = serializers.IntegerField()
    converters = serializers.IntegerField()
    revenue = serializers.FloatField()


class EventsOutput(serializers.Serializer):
    impressions = serializers.IntegerField()
    closes = serializers.IntegerField()
    clicks = serializers.IntegerField()
    submits = serializers.IntegerField()
    conversions = serializers.IntegerField()


class RatesOutput(serializers.Serializer):
    impression_rate = serializers.FloatField(allow_null=True)
    engagement_rate = serializers.FloatField(allow_null=True)
    submit_rate = serializers.FloatField(allow_null=True)
    conversion_rate = serializers.FloatField(allow_null=True)
    revenue_per_visitor = serializers.FloatField(allow_null=True)


class ArmOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Variant id; null for the holdout.")
    name = serializers.CharField()
    holdout = serializers.BooleanField()
    deleted = serializers.BooleanField()
    weight = serializers.IntegerField(allow_null=True)
    funnel = FunnelOutput()
    events = EventsOutput()
    rates = RatesOutput()
    conversion_interval = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    revenue_sum_squares = serializers.FloatField(help_text="Σ over visitors of their revenue², for its variance.")


class UpliftOutput(serializers.Serializer):
    arm = serializers.CharField()
    conversion = serializers.JSONField()
    revenue = serializers.JSONField(allow_null=True)
    incremental_conversions = serializers.FloatField(allow_null=True)
    incremental_revenue = serializers.FloatField(allow_null=True)


class SrmOutput(serializers.Serializer):
    p_value = serializers.FloatField(allow_null=True)
    mismatch = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    informational = serializers.BooleanField(
        help_text="True on a segment: the check is shown, but a mismatch does not replace the verdict.")


class SamplePlanOutput(serializers.Serializer):
    arm = serializers.CharField()
    mde = serializers.FloatField()
    per_arm = serializers.IntegerField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True)
    days_remaining = serializers.IntegerField(allow_null=True)


class ResultsSampleSizeOutput(serializers.Serializer):
    power = serializers.FloatField()
    alpha = serializers.FloatField()
    mde_source = serializers.ChoiceField(choices=["observed", "chosen"])
    daily_visitors = serializers.DictField(child=serializers.FloatField())
    arms = SamplePlanOutput(many=True)


class PointOutput(serializers.Serializer):
    day = serializers.DateField()
    rate = serializers.FloatField()
    low = serializers.FloatField()
    high = serializers.FloatField()
    exposed = serializers.IntegerField()
    converters = serializers.IntegerField()


class SeriesOutput(serializers.Serializer):
    arm = serializers.CharField()
    points = PointOutput(many=True)


class VerdictOutput(serializers.Serializer):
    arm = serializers.CharField()
    sentence = serializers.CharField()


class ResultsCampaignOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    message_type = serializers.CharField()
    status = serializers.CharField()
    goal = serializers.JSONField()
    control_share = serializers.FloatField()
    allocation_mode = serializers.CharField()
    winner = serializers.JSONField(allow_null=True)
    winner_declared_at = serializers.DateTimeField(allow_null=True)


class ResultsFiltersOutput(serializers.Serializer):
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    mde = serializers.FloatField(allow_null=True)
    device = serializers.CharField(allow_null=True)
    source = serializers.CharField(allow_null=True)
    returning = serializers.BooleanField(allow_null=True)
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True)


class ResultsOutput(serializers.Serializer):
    campaign = ResultsCampaignOutput()
    filters = ResultsFiltersOutput()
    settings = serializers.JSONField(help_text="The campaign's stats_* settings, as calculator spec fields.")
    arms = ArmOutput(many=True)
    control = serializers.CharField(allow_null=True)
    comparison = ComparisonOutput(allow_null=True)
    revenue_comparison = ComparisonOutput(allow_null=True)
    uplift = UpliftOutput(many=True, allow_null=True)
    srm = SrmOutput()
    sample_size = ResultsSampleSizeOutput(allow_null=True)
    verdicts = VerdictOutput(many=True)
    verdict = serializers.CharField()
    over_time = SeriesOutput(many=True)
    visitors_erased_on_site = serializers.IntegerField(
        help_text="Visitors of the campaign's site erased at their request: their counts stay in these numbers, "
        "and one who returns is counted as a new visitor.")


class CampaignResultsApi(APIView):
    @extend_schema(
        tags=[TAG], parameters=[*RANGE_PARAMETERS, *SEGMENT_PARAMETERS, OpenApiParameter(
            "mde", OpenApiTypes.FLOAT, description="Relative lift to plan the sample size for (0.05 = +5 %); "
            "default: each variant's observed lift.")],
        responses={
            200: ResultsOutput,
            400: OpenApiResponse(description='A bad filter, named: {"device": ["\"phone\" is not a valid choice."]}'),
            404: OpenApiResponse(description="Not one of your campaigns."),
        },
        summary="A/B results of a campaign (the numbers of the admin results page)",
        description="Filters combine: a date range, and any of device, source and returning for a segment. "
        "On a segment the SRM check is informational (`srm.informational`).",
    )
    def get(self, request, pk: int):
        campaign = campaign_for_user_or_404(user=request.user, pk=pk)
        params = ResultsInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        results = campaign_results(campaign=campaign, filters=ResultsFilter(
            since=data.get("since"), until=data.get("until"), mde=data.get("mde"), **params.segment()))
        # The selector's dict as is (ResultsOutput documents it; a test keeps the two in step): the same
        # numbers as the page, without a serializer pass over every point of every curve.
        return ApiResponse({**results, "visitors_erased_on_site": visitors_erased(site_id=campaign.site_id)})


class NpsOutput(serializers.Serializer):
    score = serializers.FloatField(allow_null=True, help_text="−100 … 100")
    interval = serializers.ListField(child=serializers.FloatField(), allow_null=True, help_text="95 % interval")
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    distribution = serializers.ListField(child=serializers.IntegerField(), help_text="Answers per score 0…10.")
    variants = serializers.JSONField()
    period = serializers.ChoiceField(choices=["day", "week"])
    over_time = serializers.JSONField()


class CampaignNpsApi(APIView):
    @extend_schema(tags=[TAG], parameters=RANGE_PARAMETERS, responses=NpsOutput, summary="NPS report of a campaign")
    def get(self, request, pk: int):
        campaign = campaign_for_user_or_404(user=request.user, pk=pk)
        return ApiResponse(NpsOutput(reports.nps_report(campaign=campaign, filters=_report_filter(request))).data)


class FeedbackOptionOutput(serializers.Serializer):
    option = serializers.CharField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


class FeedbackOutput(serializers.Serializer):
    respondents = serializers.IntegerField()
    with_text = serializers.IntegerField()
    options = FeedbackOptionOutput(many=True)


class CampaignFeedbackApi(APIView):
    @extend_schema(tags=[TAG], parameters=RANGE_PARAMETERS, responses=FeedbackOutput,
                   summary="Feedback report of a campaign: answers per option")
    def get(self, request, pk: int):
        campaign = campaign_for_user_or_404(user=request.user, pk=pk)
        report = reports.feedback_report(campaign=campaign, filters=_report_filter(request))
        return ApiResponse(FeedbackOutput(report).data)


class ResponseOutput(serializers.ModelSerializer):
    class Meta:
        model = Response
        fields = ("id", "created_at", "variant_id", "visitor_id", "score", "followup", "choices", "text", "email",
                  "name", "marketing_consent")


class _ResponseListApi(generics.ListAPIView):
    serializer_class = ResponseOutput
    selector = None

    def get_queryset(self):
        campaign = campaign_for_user_or_404(user=self.request.user, pk=self.kwargs["pk"])
        return type(self).selector(campaign=campaign, filters=_report_filter(self.request))


@extend_schema(tags=[TAG], parameters=[*RANGE_PARAMETERS, SEARCH_PARAMETER],
               summary="NPS answers, newest first (search in the follow-up)")
class CampaignNpsResponseListApi(_ResponseListApi):
    selector = staticmethod(reports.nps_answers)


@extend_schema(tags=[TAG], parameters=[*RANGE_PARAMETERS, SEARCH_PARAMETER],
               summary="Feedback answers, newest first (search in the free text)")
class CampaignFeedbackResponseListApi(_ResponseListApi):
    selector = staticmethod(reports.feedback_answers)


@extend_schema(tags=[TAG], parameters=[*RANGE_PARAMETERS, SEARCH_PARAMETER],
               summary="Leads, newest first (search in the email and the name)")
class CampaignLeadListApi(_ResponseListApi):
    selector = staticmethod(reports.leads)


class ConsentCategoryOutput(serializers.Serializer):
    category = serializers.CharField()
    count = serializers.IntegerField()
    rate = serializers.FloatField()


class ConsentVersionOutput(serializers.Serializer):
    policy_version = serializers.CharField()
    decisions = serializers.IntegerField()
    granted = serializers.IntegerField()
    denied = serializers.IntegerField()
    custom = serializers.IntegerField()
    accept_rate = serializers.FloatField()
    reject_rate = serializers.FloatField()
    custom_rate = serializers.FloatField()
    last_decision_at = serializers.DateTimeField()
    categories = ConsentCategoryOutput(many=True)


class SiteConsentApi(APIView):
    @extend_schema(tags=[TAG], parameters=RANGE_PARAMETERS, responses=ConsentVersionOutput(many=True),
                   summary="Consent decisions of a site per policy version")
    def get(self, request, pk: int):
        site = sites_for_user(user=request.user).filter(pk=pk).first()
        if site is None:
            raise NotFound("No such site.")
        report = reports.consent_report(site=site, filters=_report_filter(request))
        return ApiResponse(ConsentVersionOutput(report, many=True).data)


class CsvRenderer(BaseRenderer):
    """Lets content negotiation accept text/csv; the views answer a streamed response themselves."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Streamed CSV (UTF-8 with BOM); "
                                                   "text cells starting with = + - @ are prefixed with '.")}


class _CsvApi(APIView):
    renderer_classes = [CsvRenderer, JSONRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        """Errors (400, 401, 404 ...) are JSON like every other endpoint's, whatever the client accepted."""
        if isinstance(response, ApiResponse) and response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


class ResultsCsvInput(RangeInput, SegmentInput):
    pass


@extend_schema(tags=[TAG], parameters=[*RANGE_PARAMETERS, *SEGMENT_PARAMETERS], responses=CSV_RESPONSE,
               summary="Daily counters of a campaign as CSV, one row per arm, day and segment")
class CampaignResultsCsvApi(_CsvApi):
    def get(self, request, pk: int):
        campaign = campaign_for_user_or_404(user=request.user, pk=pk)
        params = ResultsCsvInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return exports.results_export(campaign=campaign, since=data.get("since"), until=data.get("until"),
                                      segment=params.segment())


def _csv_api(kind: str, summary: str) -> type[APIView]:
    @extend_schema(tags=[TAG], parameters=[*RANGE_PARAMETERS, SEARCH_PARAMETER], responses=CSV_RESPONSE,
                   summary=summary)
    class Api(_CsvApi):
        def get(self, request, pk: int):
            campaign = campaign_for_user_or_404(user=request.user, pk=pk)
            return exports.EXPORTS[kind](campaign=campaign, filters=_report_filter(request))

    Api.__name__ = Api.__qualname__ = f"Campaign{kind.capitalize()}CsvApi"
    return Api


CampaignNpsCsvApi = _csv_api("nps", "NPS answers as CSV")
CampaignFeedbackCsvApi = _csv_api("feedback", "Feedback answers as CSV")
CampaignLeadsCsvApi = _csv_api("leads", "Leads as CSV")


class CalculateErrorOutput(serializers.Serializer):
    error = serializers.CharField()
    detail = serializers.CharField()


class StatsCalculateApi(APIView):
    @extend_schema(
        tags=[TAG],
        request=OpenApiTypes.OBJECT,
        responses={200: CalculatorOutput, 400: CalculateErrorOutput},
        summary="A/B calculator: arm totals in, the comparison out (spec in docs/stats.md)",
        examples=[
            OpenApiExample("Two arms", request_only=True, value={
                "engine": "bayesian", "arms": [{"name": "control", "visitors": 10000, "conversions": 1000},
                                               {"name": "popup B", "visitors": 10050, "conversions": 1100}]}),
            OpenApiExample("Bad spec", response_only=True, status_codes=["400"], value={
                "error": INVALID_SPEC, "detail": "arms[1].visitors: must be a non-negative integer"}),
        ],
    )
    def post(self, request):
        try:
            result = calculator.calculate(request.data)
        except ParseError:
            return api_error(400, INVALID_SPEC, INVALID_JSON)
        except calculator.SpecError as error:
            return api_error(400, INVALID_SPEC, str(error))
        return ApiResponse(result)

