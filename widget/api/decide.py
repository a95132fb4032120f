"""POST /api/w/<public_key>/decide: which campaigns would be armed for a visitor context, and why not.

The widget decides in the browser; this is the same evaluator on the server, for previews,
explanations and server-rendered sites. Body: {"context": {...visitor context, docs/contracts.md}}.
"""

import json
import time

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from campaigns.ingest.body import (
    CONTENT_TYPES,
    ERROR_CONTENT_TYPE,
    ERROR_TOO_LARGE,
    MAX_BODY_BYTES,
    body_read,
    json_parse,
)
from campaigns.rules import ERROR_CONTEXT_SHAPE, context_problem, decide
from widget.api.config import site_config_or_answer
from widget.api.responses import cors_headers, django_response, error_response, method_not_allowed_reply

ERROR_NO_CONTEXT = "context must be an object"


@csrf_exempt
def site_decide_api(request, public_key: str):
    if request.method not in ("POST", "OPTIONS"):
        return django_response(method_not_allowed_reply(allow="POST, OPTIONS"))
    config, answer = site_config_or_answer(public_key=public_key)
    if answer is not None:
        return answer
    headers = cors_headers(
        origin=request.headers.get("Origin"), allowed_origins=config.allowed_origins, methods="POST"
    )
    if request.method == "OPTIONS":
        return HttpResponse(status=204, headers=headers)
    if request.content_type not in CONTENT_TYPES | {""}:
        return error_response(415, ERROR_CONTENT_TYPE, headers=headers)
    raw = body_read(request.read, content_length=request.META.get("CONTENT_LENGTH"), max_bytes=MAX_BODY_BYTES)
    if raw is None:
        return error_response(413, ERROR_TOO_LARGE, {"max_bytes": MAX_BODY_BYTES}, headers=headers)
    body, error = json_parse(raw)
    if error:
        return error_response(400, error, headers=headers)
    context = body.get("context") if isinstance(body, dict) else None
    if not isinstance(context, dict):
        return error_response(400, ERROR_NO_CONTEXT, headers=headers)
    problem = context_problem(context=context)
    if problem:
        return error_response(400, ERROR_CONTEXT_SHAPE, problem, headers=headers)
    context = {"now": int(time.time() * 1000), **context}
    site_config = json.loads(config.body)
    decision = decide(config=site_config, context=context)
    variants = {v["id"]: v for c in site_config["campaigns"] for v in c["variants"]}
    for entry in decision["campaigns"]:
        variant = variants.get(entry["variant"])
        entry["variant_name"] = variant["name"] if variant else None
    return JsonResponse({"version": site_config.get("version"), **decision}, headers=headers)
