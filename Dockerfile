# Two stages: `build` resolves and installs the locked dependencies with uv; `runtime` gets the
# virtual environment and the source, and nothing else: no uv, no pip cache, no compilers.
#
#   docker build -t fastapi-alembic-template .
#
# Behind a TLS-inspecting proxy, hand the build your CA bundle as a secret. It is mounted over the
# image's own bundle for the download steps only, and no layer ever holds it:
#
#   docker build --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt -t fastapi-alembic-template .
#
# BASE is any Debian-like image with python3 and ca-certificates (default: the official slim
# image); scripts/container-smoke.sh builds on a local one where no registry can be reached.
# No `# syntax=` line on purpose: it would pull a frontend image, and the builder's built-in one
# (Docker 20.10 and later) has everything used here.
ARG BASE=python:3.13-slim-bookworm

FROM ${BASE} AS build
ARG UV_VERSION=0.13.9
# pip and uv trust the system bundle (where the `ca` secret lands), not their own built-in roots.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# binutils for `strip` below. Build stage only, so its version need not be pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --yes --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
# uv itself lives in a throwaway venv of the build stage only.
RUN --mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt \
    python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /app
# Dependencies first, from the lock file alone: this layer is rebuilt only when they change,
# not on every source edit.
RUN --mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt \
    --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    /opt/uv/bin/uv sync --frozen --no-dev --no-install-project
# Wheels ship their extension modules with debug symbols (uvloop's alone is 13 MB): strip them as
# Debian strips its own shared libraries. A third of the environment, about 34 MB, goes.
RUN find /app/.venv -name '*.so' -type f -exec strip --strip-unneeded {} +
COPY alembic.ini entrypoint.sh ./
COPY alembic ./alembic
COPY app ./app
# Compile the service's own code now: the runtime user cannot write __pycache__ into /app.
RUN /app/.venv/bin/python -m compileall -q app alembic

FROM ${BASE} AS runtime
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000
# Numeric, so Kubernetes runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# Liveness, not readiness: a database outage must not mark (and let an orchestrator kill)
# every healthy app container. Readiness is /health/ready, for load balancers.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=2)"]
ENTRYPOINT ["./entrypoint.sh"]
