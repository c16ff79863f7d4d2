"""Swagger UI's files, served by this app from the `swagger-ui-bundle` package: the docs page needs
no CDN, so it works on a server without internet access.

Swagger UI rather than Redoc or Scalar: it has Authorize and Try it out (Redoc has neither), and
flask-smorest already renders its page; the package ships the files, so there is nothing to vendor.
"""
from __future__ import annotations

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from ... import ratelimits

ASSETS_URL = "/api/v1/docs/assets/"
SWAGGER_UI_CONFIG = {
    "persistAuthorization": True,  # Authorize once; the token survives a reload
    "displayOperationId": True,
    "filter": True,
    "docExpansion": "none",
}

bp = Blueprint("docs_assets", __name__)


@bp.get(ASSETS_URL + "<path:filename>")
@ratelimits.exempt
def swagger_ui_file(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=3600)
