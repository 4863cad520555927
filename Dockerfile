# syntax=docker/dockerfile:1
# mailpipe: one image for every service (fetcher, ticketer, sender, migrate, graphsim).
# The command picks the service: `docker run IMAGE ticketer`. See docs/deployment.md.
# `docker run IMAGE run` runs all three in one container (docs/embedded.md).

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: build the wheel and install it, with the postgres extra, into /opt/mailpipe ---
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the wheel is built from; tests, docs and the benchmark stay out of the image.
COPY pyproject.toml README.md ./
COPY mailpipe ./mailpipe
COPY libs ./libs
COPY services ./services
RUN python -m venv /opt/mailpipe \
 && /opt/mailpipe/bin/pip install --upgrade pip \
 && /opt/mailpipe/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/mailpipe/bin/pip install "$(ls /wheels/mailpipe-*.whl)[postgres]"

# --- runtime: the same base (the venv's python links to it), no compilers, not root ---
FROM ${PYTHON_IMAGE}
# The mount points exist and belong to the service user, so named volumes start writable by it.
RUN groupadd --system --gid 10001 mailpipe \
 && useradd --system --uid 10001 --gid mailpipe --no-create-home \
      --home-dir /var/lib/mailpipe --shell /usr/sbin/nologin mailpipe \
 && mkdir -p /var/lib/mailpipe/blobs /etc/mailpipe /demo \
 && chown -R mailpipe:mailpipe /var/lib/mailpipe /demo
COPY --from=builder /opt/mailpipe /opt/mailpipe
ENV PATH=/opt/mailpipe/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MAILPIPE_BLOB_DIR=/var/lib/mailpipe/blobs \
    MAILPIPE_HEALTH_PORT=8080
WORKDIR /var/lib/mailpipe
USER mailpipe:mailpipe
# /metrics, /healthz and /readyz of whichever service runs (MAILPIPE_HEALTH_PORT).
EXPOSE 8080
# The services finish the messages in hand on SIGTERM, then exit 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["mailpipe", "healthcheck", "--ready"]
ENTRYPOINT ["mailpipe"]
CMD ["--help"]
