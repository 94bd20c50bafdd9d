"""Content negotiation for the endpoints that also answer CSV."""

from __future__ import annotations

from fastapi import Request


def wants_csv(request: Request) -> bool:
    """True when the Accept header prefers text/csv over JSON."""
    accept = request.headers.get("accept", "")
    ranked = []
    for part in accept.split(","):
        media, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        ranked.append((quality, media))
    csv_q = max((q for q, m in ranked if m == "text/csv"), default=0.0)
    json_q = max((q for q, m in ranked if m in ("application/json", "*/*", "application/*")), default=0.0)
    return csv_q > 0 and csv_q >= json_q
