# The production image: web (uvicorn), worker and beat all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HELPDESK_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media

WORKDIR /app
RUN useradd --system --create-home --uid 10001 --user-group helpdesk

# Dependencies first, so a code change does not reinstall them. The package directories
# must exist for the editable install; the code itself is copied over them below.
COPY pyproject.toml README.md ./
RUN mkdir -p helpdesk tickets channels_app knowledge_base \
    && touch helpdesk/__init__.py tickets/__init__.py channels_app/__init__.py \
       knowledge_base/__init__.py \
    && pip install --editable .

COPY . .
# Static files are collected at build time (hashed names, compressed) and served by
# WhiteNoise. The build-time key only lets settings load; it is never used at run time.
RUN SECRET_KEY=collectstatic-only DEBUG=false python manage.py collectstatic --noinput -v0 \
    && mkdir -p /app/var/media \
    && chown -R helpdesk:helpdesk /app/var

USER helpdesk
EXPOSE 8000
CMD ["uvicorn", "helpdesk.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--lifespan", "off", "--no-access-log", "--no-proxy-headers"]
