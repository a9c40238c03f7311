"""The JSON APIs (/api/v1 and the Open Referral feed under /openreferral) answer whatever
schemathesis generates from their own OpenAPI document without a 5xx, and every answer
matches the schema the document gives for it."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session

from tests.factories import make_offer, make_provider

EXAMPLES_PER_OPERATION = 100
MIN_REQUESTS = 1_000


def test_every_operation_answers_generated_requests_within_its_schema(
    app: FastAPI, db: Session
) -> None:
    make_offer(db, provider=make_provider(db))  # a published offer, so the feed has records
    db.flush()
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    paths = {operation.path for operation in operations}
    assert any(p.startswith("/api/v1/") for p in paths) and any(
        p.startswith("/openreferral/") for p in paths
    )
    sent: list[Any] = []

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def one_request(case: Any) -> None:
            response = case.call()
            sent.append(case)
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )

        one_request()
    assert len(sent) >= MIN_REQUESTS, len(sent)
