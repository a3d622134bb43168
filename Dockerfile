# workers-ai-gateway: a small image that runs the gateway as a non-root user, for linux/amd64 and linux/arm64.
#
# Build stage: installs the project and its runtime dependencies into /install. Some dependencies publish no
# wheel for every platform (miniaudio has none for linux/arm64 on CPython 3.11), so pip builds those from
# source here, with the compiler the final image does not carry. `make docker-check` (run by .ci/run) lists
# them for both platforms and builds each from its sdist, with no container engine.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /srv
# The installed packages and the `workers-ai-gateway` command, without the compiler or pip's build files.
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 gateway \
    && mkdir -p /srv/data && chown gateway /srv/data
# Hosted images (DATA_DIR/images) outlive the container on this volume.
ENV DATA_DIR=/srv/data
VOLUME /srv/data
USER gateway

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=2)"]
CMD ["workers-ai-gateway", "serve"]
