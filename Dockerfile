# syntax=docker/dockerfile:1
# Multi-stage image: wheels are built in a throwaway stage; the runtime stage has no compiler
# and runs as an unprivileged user. One image, several process types (see docs/deploy.md):
#   web:     gunicorn config.wsgi:application -c config/gunicorn.py
#   worker:  celery -A config worker -Q webhooks   (one deployment per queue: webhooks, flows, bootstrap, default)
#   beat:    celery -A config beat
#   migrate: python manage.py migrate --noinput

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels /wheels/* && rm -rf /wheels
COPY --chown=app:app . .
# collectstatic needs settings but no database or secrets of the real deployment.
RUN SECRET_KEY=build-only TOKEN_ENCRYPTION_KEYS=WLjzykPzBc_QiTYOYYT3Efej3AMXfsEiKGu9iqX7lAw= \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var /tmp/prometheus && chown -R app:app /app/var /app/staticfiles /tmp/prometheus
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.py"]
