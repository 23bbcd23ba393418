"""The API's interactive documentation (Swagger UI) served from the package: no script or style
from a CDN, and a Content-Security-Policy that allows only these files (no inline script)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>stpsim API</title>
<link rel="stylesheet" href="/docs/files/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/files/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""
START = 'window.ui = SwaggerUIBundle({url: "/docs/openapi.json", dom_id: "#swagger-ui"});\n'


def install(app: FastAPI) -> None:
    """GET /docs (the page), /docs/start.js (what starts it) and /docs/files/* (Swagger UI)."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/files", StaticFiles(directory=str(Path(swagger_ui_path))), name="docs-files")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/docs/start.js", include_in_schema=False)
    def start() -> Response:
        return Response(START, media_type="application/javascript")

    @app.get("/docs/openapi.json", include_in_schema=False)
    def schema_for_the_page() -> dict:
        # The bundled Swagger UI (4.x) reads OpenAPI 3.0 documents only; FastAPI writes 3.1, whose
        # differences these pages do not use. The page gets the same schema labelled 3.0.3;
        # /openapi.json stays as generated, for tools.
        return app.openapi() | {"openapi": "3.0.3"}
