"""Retry parity: the item store's DynamoDB client retries what botocore's *standard* retry mode
retries for GetItem and PutItem, backs off as long, and spends the same retry quota.

botocore is the oracle: its own checkers (botocore.retries.standard), its JSON error parser, the
DynamoDB service model it ships, and the retry data in botocore/data/_retry.json are imported and
run over every status and error code either side knows. A botocore upgrade that adds a throttling
code, a retryable status or a modelled retryable error makes one of these tests fail until the
client's tables in itemstore.transport follow. (The same rules over real sockets, against a
DynamoDB-shaped server: test_dynamo_errors.py.)
"""

from __future__ import annotations

import itertools
import json
import zlib

import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.parsers import create_parser
from botocore.retries import quota, standard
from itemstore import transport
from itemstore.settings import worst_case_seconds
from itemstore.transport import backoff, backoff_bound, error_from_response, retry_kind

OPERATIONS = ("GetItem", "PutItem")
ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"


@pytest.fixture(scope="module")
def model():
    return botocore.session.get_session().get_service_model("dynamodb")


@pytest.fixture(scope="module")
def retry_data():
    """botocore's _retry.json: the policies of legacy mode, which name DynamoDB's special cases."""
    return botocore.loaders.Loader().load_data("_retry")


def _policy_conditions(retry_data) -> list[dict]:
    """Every `applies_when.response` of the general definitions and of DynamoDB's policies."""
    conditions = [policy["applies_when"].get("response", {}) for policy in retry_data["definitions"].values()]
    for section in ("__default__", "dynamodb"):
        for policy in retry_data["retry"].get(section, {}).get("policies", {}).values():
            if "$ref" in policy:
                continue  # a reference to a general definition, covered above
            conditions.append(policy["applies_when"].get("response", {}))
    return conditions


# --- the tables, against botocore's ------------------------------------------------------------

def test_the_retried_codes_and_statuses_are_botocores():
    assert transport.THROTTLING_CODES == set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
    assert transport.TRANSIENT_CODES == set(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES)
    assert transport.TRANSIENT_STATUSES == set(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES)
    assert transport.THROTTLING_STATUSES == set(standard.ThrottlingStatusCodeChecker._THROTTLING_STATUS_CODES)
    # Connection errors and timeouts: botocore retries its ConnectionError and HTTPClientError
    # (connect/read timeouts, TLS errors included); the client retries every OSError (sockets,
    # timeouts, ssl.SSLError, BadResponse), which those wrap.
    assert set(standard.TransientRetryableChecker._TRANSIENT_EXCEPTION_CLS) == {
        botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError}


def test_the_backoff_and_quota_constants_are_botocores():
    backoff_class = standard.ExponentialBackoff
    assert transport.MAX_BACKOFF == backoff_class._MAX_BACKOFF
    assert transport.THROTTLING_BACKOFF_SCALE == backoff_class._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"]
    assert transport.TRANSIENT_BACKOFF_SCALE == backoff_class._SERVICE_BACKOFF_CONFIG["dynamodb"]["non_throttling_base_scale"]
    assert transport.RETRY_AFTER_HEADER == backoff_class._RETRY_AFTER_HEADER
    assert transport.RETRY_AFTER_MAX_ADDITIONAL == backoff_class._RETRY_AFTER_MAX_ADDITIONAL
    assert transport.QUOTA_CAPACITY == quota.RetryQuota.INITIAL_CAPACITY
    assert transport.QUOTA_RETRY_COST == standard.RetryQuotaChecker._RETRY_COST
    assert transport.QUOTA_THROTTLING_RETRY_COST == standard.RetryQuotaChecker._THROTTLING_RETRY_COST
    assert transport.QUOTA_SUCCESS_REFUND == standard.RetryQuotaChecker._NO_RETRY_INCREMENT


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_modelled_errors_are_dynamodbs(model, operation):
    shapes = model.operation_model(operation).error_shapes
    assert transport.MODELED_ERRORS[operation] == {shape.metadata.get("error", {}).get("code") or shape.name
                                                   for shape in shapes}
    assert transport.MODELED_RETRYABLE[operation] == {
        shape.name: bool(shape.metadata["retryable"].get("throttling")) for shape in shapes
        if shape.metadata.get("retryable") is not None}


# --- the decisions, against botocore's checkers --------------------------------------------------

def _universe(retry_data) -> tuple[list[int], list[str | None]]:
    """Every status and error code that botocore's retry rules, _retry.json or DynamoDB's model
    name, and a few that none does."""
    statuses = {200, 400, 403, 404, 409, 413, 429, 500, 501, 502, 503, 504, 509}
    codes = {None, "", "ValidationException", "AccessDeniedException", "UnrecognizedClientException",
             "SomethingNew"}
    codes |= transport.THROTTLING_CODES | transport.TRANSIENT_CODES
    codes |= set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
    codes |= set(standard.TransientRetryableChecker._TRANSIENT_ERROR_CODES)
    statuses |= set(standard.TransientRetryableChecker._TRANSIENT_STATUS_CODES)
    statuses |= set(standard.ThrottlingStatusCodeChecker._THROTTLING_STATUS_CODES)
    for condition in _policy_conditions(retry_data):
        if "service_error_code" in condition:
            codes.add(condition["service_error_code"])
        if "http_status_code" in condition:
            statuses.add(condition["http_status_code"])
    for operation in OPERATIONS:
        codes |= transport.MODELED_ERRORS[operation]
    return sorted(statuses), sorted(codes, key=lambda code: (code is not None, code or ""))


def _bodies(code: str | None) -> list[bytes]:
    """The ways an error answer can carry ``code`` (None: a body without one)."""
    if code is None:
        return [b"", b"<html>502 Bad Gateway</html>", b'{"message": "no type"}']
    return [json.dumps({"__type": ERROR_TYPE + code, "message": "m"}).encode(),
            json.dumps({"__type": code, "Message": "M"}).encode(),
            json.dumps({"__type": f"{code}:http://internal.amazon.com/coral/"}).encode()]


class Oracle:
    """botocore's standard-mode decision for one answer, from its own classes."""

    def __init__(self, model, operation: str) -> None:
        self.operation_model = model.operation_model(operation)
        self.parser = create_parser("json")
        self.conditions = standard.StandardRetryConditions(max_attempts=10)
        self.throttling = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())

    def context(self, status: int, headers: dict, body: bytes, attempt: int = 1) -> standard.RetryContext:
        http_response = AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", status, HeadersDict(headers), None)
        http_response._content = body
        parsed = self.parser.parse({"status_code": status, "headers": HeadersDict(headers), "body": body,
                                    "context": {"operation_name": self.operation_model.name}},
                                   self.operation_model.output_shape)
        return standard.RetryContext(attempt_number=attempt, operation_model=self.operation_model,
                                     parsed_response=parsed, http_response=http_response, request_context={})

    def decide(self, context) -> str | None:
        if not self.conditions.is_retryable(context):
            return None
        return transport.THROTTLING if self.throttling.is_throttling_error_from_context(context) else transport.TRANSIENT

    def delay(self, context, rand: float) -> float:
        return standard.ExponentialBackoff(random=lambda: rand, service_name="dynamodb",
                                           throttling_detector=self.throttling).delay_amount(context)


def _ours(operation: str, status: int, headers: dict, body: bytes) -> tuple[str | None, str | None]:
    """(error code, retry kind) as the client decides them (the same steps as DynamoDBClient.call)."""
    crc = headers.get("x-amz-crc32")
    crc_mismatch = crc is not None and str(zlib.crc32(body)) != crc
    code = None if 200 <= status < 300 else error_from_response(status, body).code
    return code, retry_kind(operation, status, code, crc_mismatch)


def test_the_universe_covers_every_rule_in_retry_json(retry_data):
    statuses, codes = _universe(retry_data)
    conditions = _policy_conditions(retry_data)
    assert {c["service_error_code"] for c in conditions if "service_error_code" in c} <= set(codes)
    assert {c["http_status_code"] for c in conditions if "http_status_code" in c} <= set(statuses)
    assert "ReplicatedWriteConflictException" in codes and 429 in statuses


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_answer_is_retried_exactly_when_botocore_retries_it(model, retry_data, operation):
    oracle = Oracle(model, operation)
    statuses, codes = _universe(retry_data)
    checked = retried = 0
    for status, code in itertools.product(statuses, codes):
        for body in _bodies(code):
            for crc in (None, "right", "wrong"):
                headers = {"Content-Type": "application/x-amz-json-1.0"}
                if crc is not None:
                    headers["x-amz-crc32"] = str(zlib.crc32(body) if crc == "right" else zlib.crc32(body) + 1)
                context = oracle.context(status, headers, body)
                expected_kind = oracle.decide(context)
                our_code, our_kind = _ours(operation, status, headers, body)
                where = f"{operation} {status} {body[:80]!r} crc={crc}"
                if status >= 300:
                    assert our_code == context.get_error_code(), where
                assert our_kind == expected_kind, where
                checked += 1
                retried += expected_kind is not None
    assert checked > 1000 and 0 < retried < checked


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("retry_after", [None, "0", "1500", "3000", "60000", "-5", "soon", "9" * 400],
                         ids=["none", "0", "1500", "3000", "60000", "negative", "not-a-number", "overflow"])
def test_the_backoff_is_botocores_including_x_amz_retry_after(model, operation, retry_after):
    oracle = Oracle(model, operation)
    answers = [(429, b""), (400, json.dumps({"__type": ERROR_TYPE + "ThrottlingException"}).encode()),
               (500, b""), (409, json.dumps({"__type": ERROR_TYPE + "ReplicatedWriteConflictException"}).encode())]
    for (status, body), attempt, rand in itertools.product(answers, (1, 2, 3, 6), (0.0, 0.37, 1.0)):
        headers = {} if retry_after is None else {"x-amz-retry-after": retry_after}
        context = oracle.context(status, headers, body, attempt)
        kind = oracle.decide(context)
        if kind is None:
            continue  # e.g. ReplicatedWriteConflictException on GetItem, which does not model it
        assert _ours(operation, status, headers, body)[1] == kind
        expected = oracle.delay(context, rand)
        if retry_after is not None:  # the one difference: held to the bound the worst case counts
            expected = min(expected, backoff_bound(attempt))
        assert backoff(kind, attempt, rand, retry_after) == pytest.approx(expected), \
            (operation, status, attempt, rand)


def test_without_x_amz_retry_after_botocores_backoff_never_exceeds_the_bound(model):
    # So the bound changes nothing but a long x-amz-retry-after: botocore's own largest wait
    # (throttling, rand() = 1) before each attempt is backoff_bound.
    oracle = Oracle(model, "GetItem")
    body = json.dumps({"__type": ERROR_TYPE + "ThrottlingException"}).encode()
    for attempt in range(1, 11):
        assert oracle.delay(oracle.context(400, {}, body, attempt), 1.0) == pytest.approx(backoff_bound(attempt))


@pytest.mark.parametrize("max_attempts", range(1, 11))
def test_the_bound_is_the_backoff_the_worst_case_counts(max_attempts):
    assert worst_case_seconds(0, 0, max_attempts) == sum(backoff_bound(a) for a in range(1, max_attempts))


def test_connection_errors_back_off_as_botocores_transient_errors(model):
    oracle = Oracle(model, "GetItem")
    for attempt, rand in itertools.product((1, 2, 5), (0.5, 1.0)):
        context = standard.RetryContext(attempt_number=attempt, operation_model=oracle.operation_model,
                                        caught_exception=botocore.exceptions.ConnectionClosedError(endpoint_url="x"),
                                        request_context={})
        assert oracle.decide(context) == transport.TRANSIENT
        assert backoff(transport.TRANSIENT, attempt, rand) == pytest.approx(oracle.delay(context, rand))
