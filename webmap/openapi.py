"""The OpenAPI 3.1 description of the public REST API (served at ``/api/v1/openapi.json``).

Tests validate every documented response against these schemas, so the document and the code
cannot drift apart silently.
"""

from __future__ import annotations

from typing import Any

_ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}
_TEXT = {
    "type": "object",
    "required": ["ja", "en"],
    "additionalProperties": False,
    "properties": {"ja": {"type": "string"}, "en": {"type": "string"}},
}
_POINT = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_POLYGON = {"type": "array", "items": _POINT, "minItems": 3}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


_ERROR = _json("Error", "The request was refused; the message says why.")
_STATION_PARAM = {"name": "station_id", "in": "path", "required": True, "schema": _ID}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "StationList": {
        "type": "object",
        "required": ["stations"],
        "additionalProperties": False,
        "properties": {
            "stations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "floors"],
                    "additionalProperties": False,
                    "properties": {
                        "id": _ID,
                        "name": _TEXT,
                        "floors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "name"],
                                "additionalProperties": False,
                                "properties": {"id": _ID, "name": _TEXT},
                            },
                        },
                    },
                },
            }
        },
    },
    "ZoneCrowding": {
        "type": "object",
        "required": ["id", "count", "density_per_m2", "level", "los", "stale"],
        "additionalProperties": False,
        "properties": {
            "id": _ID,
            "count": {"type": "integer", "minimum": 0},
            "density_per_m2": {"type": "number", "minimum": 0},
            "level": {
                "type": "integer",
                "minimum": 0,
                "maximum": 3,
                "description": "0 quiet, 1 busy, 2 crowded, 3 very crowded",
            },
            "los": {"type": "string", "enum": ["A", "B", "C", "D", "E", "F"], "description": "Fruin level of service"},
            "stale": {"type": "boolean", "description": "no live camera covers the zone: count and level are unknown"},
        },
    },
    "Crowding": {
        "type": "object",
        "description": "The latest frame of a station; also the payload of the Socket.IO event `crowding` on /public.",
        "required": ["station", "timestamp", "floors"],
        "additionalProperties": False,
        "properties": {
            "station": _ID,
            "timestamp": {"type": ["number", "null"], "description": "unix seconds; null before the first frame"},
            "floors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["floor", "dots", "zones"],
                    "additionalProperties": False,
                    "properties": {
                        "floor": _ID,
                        "dots": {
                            "type": "array",
                            "description": "[x_m, y_m, moving 0 or 1] per person, in no stable order, rounded to 0.1 m",
                            "items": {
                                "type": "array",
                                "prefixItems": [{"type": "number"}, {"type": "number"}, {"enum": [0, 1]}],
                                "minItems": 3,
                                "maxItems": 3,
                            },
                        },
                        "zones": {"type": "array", "items": {"$ref": "#/components/schemas/ZoneCrowding"}},
                    },
                },
            },
        },
    },
    "Plan": {
        "type": "object",
        "required": ["station", "name", "simulated", "frame_interval_s", "stale_after_s", "floors"],
        "additionalProperties": False,
        "properties": {
            "station": _ID,
            "name": _TEXT,
            "simulated": {"type": "boolean"},
            "frame_interval_s": {"type": "number"},
            "stale_after_s": {"type": "number"},
            "floors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "id",
                        "name",
                        "size_m",
                        "walkable_m",
                        "obstacles_m",
                        "features",
                        "zones",
                        "uncovered_m",
                    ],
                    "additionalProperties": False,
                    "properties": {
                        "id": _ID,
                        "name": _TEXT,
                        "size_m": _POINT,
                        "walkable_m": {"type": "array", "items": _POLYGON},
                        "obstacles_m": {"type": "array", "items": _POLYGON},
                        "uncovered_m": {
                            "type": ["array", "null"],
                            "description": "Walkable floor no camera sees (null: unknown). Polygons, each a "
                            "list of rings (exterior first, then holes), each ring [x_m, y_m] points. Floor "
                            "geometry only: the union over all cameras, no camera ids.",
                            "items": {"type": "array", "minItems": 1, "items": _POLYGON},
                        },
                        "features": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["kind", "label", "polygon_m"],
                                "additionalProperties": False,
                                "properties": {
                                    "kind": {"type": "string"},
                                    "label": {"oneOf": [_TEXT, {"type": "null"}]},
                                    "polygon_m": _POLYGON,
                                },
                            },
                        },
                        "zones": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "name", "kind", "polygon_m", "label_m"],
                                "additionalProperties": False,
                                "properties": {
                                    "id": _ID,
                                    "name": _TEXT,
                                    "kind": {"enum": ["walkway", "queuing"]},
                                    "polygon_m": _POLYGON,
                                    "label_m": {
                                        **_POINT,
                                        "description": "Where the zone's label goes: the middle of its largest "
                                        "free area (pole of inaccessibility), inside the zone.",
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "History": {
        "type": "object",
        "description": "Per-minute aggregates of one zone; never positions (PRIVACY.md P3).",
        "required": ["station", "zone", "source", "minutes"],
        "additionalProperties": False,
        "properties": {
            "station": _ID,
            "zone": _ID,
            "source": {"enum": ["history", "recent"]},
            "minutes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [
                        "minute_start",
                        "zone",
                        "mean_count",
                        "mean_density_per_m2",
                        "peak_density_per_m2",
                        "peak_level",
                    ],
                    "additionalProperties": False,
                    "properties": {
                        "minute_start": {"type": "number"},
                        "zone": _ID,
                        "mean_count": {"type": "number", "minimum": 0},
                        "mean_density_per_m2": {"type": "number", "minimum": 0},
                        "peak_density_per_m2": {"type": "number", "minimum": 0},
                        "peak_level": {"type": "integer", "minimum": 0, "maximum": 3},
                    },
                },
            },
        },
    },
    "Usual": {
        "type": "object",
        "required": ["station", "timestamp", "min_weeks", "zones"],
        "additionalProperties": False,
        "properties": {
            "station": _ID,
            "timestamp": {"type": "number"},
            "min_weeks": {
                "type": "integer",
                "minimum": 1,
                "description": "Past weeks of history a usual value needs; below it the values are null.",
            },
            "zones": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "usual_density_per_m2", "busier_from_per_m2", "usual_weeks"],
                    "additionalProperties": False,
                    "properties": {
                        "id": _ID,
                        "usual_weeks": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Past weeks with history at this weekday and time of day.",
                        },
                        "usual_density_per_m2": {"type": ["number", "null"]},
                        "busier_from_per_m2": {
                            "type": ["number", "null"],
                            "description": "Density from which the zone reads 'busier than usual'.",
                        },
                    },
                },
            },
        },
    },
}


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
        "components": {"schemas": SCHEMAS},
    }
