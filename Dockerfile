# newswire: one image for the poller, the workers, the web service and the setup job.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NEWSWIRE_CONFIG=/app/config \
    NEWSWIRE_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
# Editable install: the package finds config/elasticsearch and config/kibana beside it.
RUN pip install --no-cache-dir -e .
COPY config ./config

RUN useradd --system --home-dir /data --create-home newswire && chown newswire /data
USER newswire
VOLUME ["/data"]
CMD ["newswire", "--help"]
