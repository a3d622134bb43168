# workers-ai-gateway: a small image that runs the gateway as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install . && useradd --create-home --uid 10001 gateway \
    && mkdir -p /srv/data && chown gateway /srv/data
# Hosted images (DATA_DIR/images) outlive the container on this volume.
ENV DATA_DIR=/srv/data
VOLUME /srv/data
USER gateway

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=2)"]
CMD ["workers-ai-gateway", "serve"]
