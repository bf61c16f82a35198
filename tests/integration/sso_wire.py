"""The wire format of AWS's ``sso`` and ``sso-oidc`` services, read from botocore's own models.

The loopback fake of IAM Identity Center (``tests.integration.sso_peer``) knows nothing about
paths, headers or JSON member names itself: every request is matched to an operation by the
model's ``http`` trait, decoded member by member from the location the model gives (header,
query string, JSON body), and checked with botocore's ``ParamValidator`` against the input
shape; every answer and every error is checked against its output or error shape (and the error
must be one the operation declares) before it is encoded. So what the fake accepts and says is
what botocore sends and expects, and a drift in either shows up as a failing test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import botocore.loaders
import botocore.model
import botocore.validate

__all__ = ["SERVICES", "Operation", "WireError", "find_operation"]


class WireError(Exception):
    """An error answer: ``shape`` is one of the operation's declared error shapes."""

    def __init__(self, shape: str, **members: Any) -> None:
        super().__init__(shape)
        self.shape = shape
        self.members = members


def _load(name: str) -> botocore.model.ServiceModel:
    loader = botocore.loaders.Loader()
    return botocore.model.ServiceModel(loader.load_service_model(name, "service-2"), name)


SERVICES: dict[str, botocore.model.ServiceModel] = {
    name: _load(name) for name in ("sso", "sso-oidc")
}


def _validate(params: Mapping[str, Any], shape: botocore.model.Shape | None, what: str) -> None:
    if shape is None:
        if params:
            raise AssertionError(f"{what}: the model has no shape, yet there are members")
        return
    report = botocore.validate.ParamValidator().validate(dict(params), shape)
    if report.has_errors():
        raise ValueError(f"{what}: {report.generate_report()}")


def _scalar(text: str, shape: botocore.model.Shape) -> Any:
    if shape.type_name in ("integer", "long"):
        return int(text)
    if shape.type_name == "boolean":
        return text == "true"
    return text


@dataclass(frozen=True)
class Operation:
    """One operation of one service, as its model describes it."""

    service: str
    model: botocore.model.OperationModel

    @property
    def name(self) -> str:
        return str(self.model.name)

    def decode(
        self, headers: Mapping[str, str], query: Mapping[str, list[str]], body: bytes
    ) -> dict[str, Any]:
        """The request's parameters, by member name; refuses members the model does not have.

        Raises:
            WireError: ``InvalidRequestException`` (a malformed or unknown member, a missing
                required one, a wrong type), as the real service answers.
        """
        shape = self.model.input_shape
        params: dict[str, Any] = {}
        try:
            document: dict[str, Any] = json.loads(body) if body.strip() else {}
            if not isinstance(document, dict):
                raise ValueError("the body is not a JSON object")
            known_query: set[str] = set()
            known_body: set[str] = set()
            members = shape.members if shape is not None else {}
            for name, member in members.items():
                location = member.serialization.get("location")
                wire_name = member.serialization.get("name", name)
                if location == "header":
                    if wire_name.lower() in {h.lower() for h in headers}:
                        value = next(
                            v for h, v in headers.items() if h.lower() == wire_name.lower()
                        )
                        params[name] = _scalar(value, member)
                elif location == "querystring":
                    known_query.add(wire_name)
                    if wire_name in query:
                        values = query[wire_name]
                        if len(values) != 1:
                            raise ValueError(f"{wire_name} given {len(values)} times")
                        params[name] = _scalar(values[0], member)
                elif location is None:
                    known_body.add(wire_name)
                    if wire_name in document:
                        params[name] = document[wire_name]
                else:
                    raise AssertionError(f"{self.name}: location {location!r} not handled")
            unknown = (set(query) - known_query) | (set(document) - known_body)
            if unknown:
                raise ValueError(f"unknown members {sorted(unknown)}")
            _validate(params, shape, f"{self.name} request")
        except ValueError as exc:
            if self.service == "sso-oidc":
                raise WireError(
                    "InvalidRequestException", error="invalid_request", error_description=str(exc)
                ) from None
            raise WireError("InvalidRequestException", message=str(exc)) from None
        return params

    def encode(self, result: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of a successful answer, checked against the output shape."""
        shape = self.model.output_shape
        _validate(result, shape, f"{self.name} response")
        if shape is not None:
            for name, member in shape.members.items():
                if member.serialization.get("location") is not None:
                    raise AssertionError(f"{self.name}: output member {name} is not in the body")
        body = json.dumps(dict(result)).encode() if shape is not None else b""
        return 200, {"content-type": "application/json"}, body

    def encode_error(self, error: WireError) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of ``error``: a declared error shape, checked, with its
        name in ``x-amzn-ErrorType`` (how rest-json services name the error)."""
        declared = {shape.name: shape for shape in self.model.error_shapes}
        shape = declared.get(error.shape)
        if shape is None:
            raise AssertionError(f"{self.name} does not declare the error {error.shape}")
        _validate(error.members, shape, f"{self.name} error {error.shape}")
        status = int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        headers = {"content-type": "application/json", "x-amzn-errortype": error.shape}
        return status, headers, json.dumps(error.members).encode()


def find_operation(method: str, path: str) -> Operation | None:
    """The operation whose ``http`` trait is ``method`` and ``path`` (query ignored), if any.

    Paths with a query in the model (``/token?aws_iam=t``) are left out: the fake does not
    serve operations that need AWS credentials.
    """
    for service_name, service in SERVICES.items():
        for name in service.operation_names:
            model = service.operation_model(name)
            http = model.http
            if http.get("method") == method and http.get("requestUri") == path:
                return Operation(service_name, model)
    return None
