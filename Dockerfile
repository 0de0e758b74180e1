# syntax=docker/dockerfile:1
# The gateway as a container image (README "Deploying: container, workers, replicas"):
#
#   docker build -t invitation-gateway .
#   docker run --env-file gateway.env -p 8000:8000 invitation-gateway
#   docker run --env-file gateway.env invitation-gateway check-config
#
# Two stages: the first builds wheels of the project and its dependencies (pip wheel) and
# installs them into a virtual environment; the second copies that environment into a slim
# Python with no compiler, no wheels, no pip cache and no source tree. (Copying the venv rather
# than the wheels keeps them out of the image's layers without BuildKit-only `RUN --mount`, so
# the legacy builder builds it too.) No configuration or secret is baked in: everything comes
# from GATEWAY_* variables (and mounted files) at run time.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /build
# Only what the wheel is built from (see .dockerignore): edits elsewhere keep this layer cached.
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --wheel-dir /wheels . \
 && python -m venv /opt/invitation-gateway \
 && /opt/invitation-gateway/bin/pip install --no-index --find-links /wheels invitation-gateway

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/invitation-gateway/bin:$PATH
# The same base image, so the venv's interpreter link (/usr/local/bin/python3.11) holds.
COPY --from=builder /opt/invitation-gateway /opt/invitation-gateway

# A system user without a shell or password, with a fixed uid (Kubernetes `runAsNonRoot`
# needs a numeric USER). Its home is the one writable directory: the embedded stores'
# SQLite files go there when Redis and PostgreSQL are not configured.
ARG UID=10001
RUN useradd --system --uid "${UID}" --user-group --no-log-init \
        --home-dir /var/lib/invitation-gateway --create-home --shell /usr/sbin/nologin gateway
WORKDIR /var/lib/invitation-gateway
ENV GATEWAY_AUDIT__SQLITE_PATH=/var/lib/invitation-gateway/audit.sqlite3 \
    GATEWAY_IDEMPOTENCY__SQLITE_PATH=/var/lib/invitation-gateway/idempotency.sqlite3
USER ${UID}

EXPOSE 8000
# Liveness only (/healthz: the process answers). Readiness is the orchestrator's to ask, at
# /readyz; see the README for what it means. Slim images have no curl: Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["invitation-gateway"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
