"""The OpenAPI 3.1 description of the public REST API (served at ``/api/v1/openapi.json``).

The schemas are generated from the pydantic models of :mod:`webmap.schemas`; only the paths
are written here. Tests validate the document itself as OpenAPI 3.1 and every documented
response against it, so the document, the models and the code cannot drift apart silently.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from station.ids import ID_PATTERN
from webmap.schemas import COMPONENTS

_ID = {"type": "string", "pattern": ID_PATTERN}


class _Generator(GenerateJsonSchema):
    # Field titles repeat the property names; the models' own titles and descriptions stay.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@functools.cache
def component_schemas() -> dict[str, Any]:
    """``components.schemas`` of the document: every model of :mod:`webmap.schemas` and what they use."""
    _, top = models_json_schema(
        [(model, "validation") for model in COMPONENTS],
        ref_template="#/components/schemas/{model}",
        schema_generator=_Generator,
    )
    return top["$defs"]


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


_ERROR = _json("Error", "The request was refused; the message says why.")
_STATION_PARAM = {"name": "station_id", "in": "path", "required": True, "schema": _ID}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``/api/v1``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crowdmap public API",
            "version": "1.0.0",
            "description": (
                "Read-only, unauthenticated station crowding: anonymous dots and per-zone levels. "
                'Live updates: Socket.IO namespace /public, emit `join` with {"station": id} '
                '(optionally "floor": id) and receive `crowding` events with the Crowding schema.'
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/stations": {
                "get": {
                    "operationId": "listStations",
                    "summary": "Stations served, with their floors",
                    "responses": {"200": _json("StationList", "The stations.")},
                }
            },
            "/api/v1/stations/{station_id}/crowding": {
                "get": {
                    "operationId": "getCrowding",
                    "summary": "The latest crowding frame of a station",
                    "parameters": [_STATION_PARAM],
                    "responses": {"200": _json("Crowding", "The latest frame."), "404": _ERROR},
                }
            },
            "/api/v1/stations/{station_id}/plan": {
                "get": {
                    "operationId": "getPlan",
                    "summary": "The floor plans and zones of a station, in metres",
                    "parameters": [_STATION_PARAM],
                    "responses": {"200": _json("Plan", "The plan."), "404": _ERROR},
                }
            },
            "/api/v1/stations/{station_id}/history": {
                "get": {
                    "operationId": "getHistory",
                    "summary": "Per-minute aggregates of one zone",
                    "parameters": [
                        _STATION_PARAM,
                        {"name": "zone", "in": "query", "required": True, "schema": _ID},
                        {
                            "name": "hours",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 48, "default": 1},
                        },
                    ],
                    "responses": {"200": _json("History", "The aggregates."), "400": _ERROR, "404": _ERROR},
                }
            },
            "/api/v1/stations/{station_id}/usual": {
                "get": {
                    "operationId": "getUsual",
                    "summary": "The usual density of each zone at this weekday and time of day",
                    "parameters": [_STATION_PARAM],
                    "responses": {"200": _json("Usual", "Usual densities."), "404": _ERROR},
                }
            },
        },
        "components": {"schemas": component_schemas()},
    }
