"""schemathesis hooks for scripts/api-contract (schemathesis 4.x; loaded through SCHEMATHESIS_HOOKS).

- Every request is authenticated as the local stack's demo workspace would be: the demo API key
  as `Authorization: Bearer`, and the signed webhooks signed over the exact bytes sent
  (`X-Hub-Signature-256` for WhatsApp, `Stripe-Signature` with the current time for Stripe), so
  generated bodies get past authentication and reach the parsers and the database.
- Half of the generated scrape-quota agent ids (chosen by a hash, so a run is reproducible) are
  replaced by the demo agent's, so granted and refused quota answers are exercised too.
- `problem_has_type_title_status`: every `application/problem+json` body carries `type`, `title`
  and `status`, and `status` is the response's status code.

The secrets are the local stack's defaults (functions/local/src/seed.rs); scripts/api-contract
passes them through the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import uuid

import schemathesis

API_KEY = os.environ.get("LOCAL_API_KEY", "le_local_demo_key_change_me")
WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "local_app_secret")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_local_dev_secret")
DEMO_AGENT_ID = os.environ.get("DEMO_AGENT_ID", "00000000-0000-4000-8000-00000000a001")

BEARER_ROUTES = {"/webhooks/web-agent", "/agents/{agent_id}/scrape-quota"}


def _body_bytes(case, kwargs) -> bytes | None:
    """The exact bytes the request will carry (None: no body), fixed into `kwargs` so the bytes
    signed are the bytes sent."""
    prepared = case.as_transport_kwargs()
    if "json" in prepared:
        try:
            raw = json.dumps(prepared["json"], allow_nan=False).encode()
        except ValueError:
            raw = json.dumps(prepared["json"]).encode()
    elif "data" in prepared and prepared["data"] is not None:
        raw = prepared["data"]
        if isinstance(raw, str):
            raw = raw.encode()
        elif not isinstance(raw, bytes):
            # Form fields or a stream: nothing we can sign byte for byte; let it go unsigned.
            return None
    else:
        return b""
    kwargs["data"] = raw
    return raw


def _set_header(case, name: str, value: str) -> None:
    headers = dict(case.headers or {})
    for existing in list(headers):
        if existing.lower() == name.lower():
            del headers[existing]
    headers[name] = value
    case.headers = headers


@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if ctx.operation is None or ctx.operation.path != "/agents/{agent_id}/scrape-quota":
        return path_parameters
    if not path_parameters or "agent_id" not in path_parameters:
        return path_parameters
    value = str(path_parameters["agent_id"])
    try:
        uuid.UUID(value)
    except ValueError:
        return path_parameters
    if hashlib.sha256(value.encode()).digest()[0] % 2 == 0:
        path_parameters["agent_id"] = DEMO_AGENT_ID
    return path_parameters


@schemathesis.hook
def before_call(ctx, case, kwargs):
    path = case.operation.path
    if path in BEARER_ROUTES:
        _set_header(case, "Authorization", f"Bearer {API_KEY}")
    elif path == "/webhooks/whatsapp" and case.operation.method.upper() == "POST":
        raw = _body_bytes(case, kwargs)
        if raw is not None:
            digest = hmac.new(WHATSAPP_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            _set_header(case, "X-Hub-Signature-256", f"sha256={digest}")
    elif path == "/webhooks/stripe":
        raw = _body_bytes(case, kwargs)
        if raw is not None:
            t = str(int(time.time()))
            signed = t.encode() + b"." + raw
            digest = hmac.new(STRIPE_WEBHOOK_SECRET.encode(), signed, hashlib.sha256).hexdigest()
            _set_header(case, "Stripe-Signature", f"t={t},v1={digest}")


@schemathesis.check
def problem_has_type_title_status(ctx, response, case):
    """Every problem document (RFC 9457) names its `type`, `title` and `status`."""
    content_type = response.headers.get("content-type") or [""]
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if content_type.split(";")[0].strip().lower() != "application/problem+json":
        return None
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"the problem body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise AssertionError("the problem body is not a JSON object")
    missing = [name for name in ("type", "title", "status") if name not in body]
    if missing:
        raise AssertionError(f"the problem body lacks {', '.join(missing)}")
    if not isinstance(body["type"], str) or not isinstance(body["title"], str):
        raise AssertionError("the problem's `type` and `title` must be strings")
    if body["status"] != response.status_code:
        raise AssertionError(
            f"the problem's `status` is {body['status']!r}, the response's {response.status_code}"
        )
    return None
