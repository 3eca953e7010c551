"""A WSGI app that answers with what it received, for the gateway's proxy-fidelity tests.

Its response carries headers the gateway must pass on (two Set-Cookie, X-Echo) and some it must not
(Access-Control-* ones, which API Gateway replaces with the API's CORS).
It answers 200, or the status an ``X-Status`` request header names.
"""

from __future__ import annotations

import base64
import json


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
    path = environ.get("PATH_INFO", "")
    status = int(environ.get("HTTP_X_STATUS", "200"))
    echoed = {
        "method": environ["REQUEST_METHOD"],
        "raw_uri": environ.get("RAW_URI"),
        "path": path,
        "query": environ.get("QUERY_STRING", ""),
        "headers": {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                    if key.startswith("HTTP_")} | ({"content-type": environ["CONTENT_TYPE"]}
                                                   if environ.get("CONTENT_TYPE") else {}),
        "content_length": environ.get("CONTENT_LENGTH"),
        "body_base64": base64.b64encode(body).decode(),
    }
    data = json.dumps(echoed).encode()
    start_response(f"{status} Echo", [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        ("X-Echo", "yes"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2; Path=/"),
        ("Access-Control-Allow-Origin", "https://evil.example"),
        ("Access-Control-Allow-Credentials", "true"),
    ])
    return [data]
