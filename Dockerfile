# PCSO deployment decision service: small image, dependencies first, non-root, policy data inside.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies layer: changes only when pyproject.toml or the pinned versions change.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Application, policy data and the schemas that validate it.
COPY service ./service
COPY schemas ./schemas
COPY policy_data ./policy_data

RUN useradd --system --uid 10001 --no-create-home --home-dir /app pcso \
 && mkdir -p /app/var && chown pcso /app/var
USER pcso

# API_KEYS must be supplied at run time (key:role,...); DATABASE_URL defaults to SQLite in /app/var.
# PROMETHEUS_MULTIPROC_DIR lets /metrics add up every worker's figures; it is emptied at start.
ENV PORT=8000 \
    WEB_CONCURRENCY=1 \
    POLICY_DIR=/app/policy_data \
    SCHEMA_DIR=/app/schemas \
    PROMETHEUS_MULTIPROC_DIR=/tmp/pcso-metrics
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["python", "-m", "service.ops.healthcheck"]
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec python -m service.ops.server --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\""]
