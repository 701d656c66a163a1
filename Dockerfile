# syntax=docker/dockerfile:1
# OCOP web / Celery image. One image, three roles (docker-compose.yml): web (gunicorn),
# worker and beat (celery). Settings come from the environment (see .env.example).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=ocop.settings \
    MEDIA_ROOT=/data/media

# WeasyPrint needs Pango and HarfBuzz (subset); gettext for compilemessages.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer: only pyproject.toml invalidates it.
COPY pyproject.toml ./
RUN mkdir -p ocop dossiers councils scoring \
 && touch ocop/__init__.py dossiers/__init__.py councils/__init__.py scoring/__init__.py \
 && pip install . \
 && rm -rf ocop dossiers councils scoring build ./*.egg-info

# The application. PYTHONPATH=/app makes /app (with templates, static, locale) the code
# that runs; `pip install .` registers the project itself.
COPY . .
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# Build-time only: production settings refuse to start without their variables, so give
# dummy values to compile translations and collect static files (hashed, compressed).
RUN DEBUG=0 \
    SECRET_KEY=build-only-not-a-secret \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    ALLOWED_HOSTS=localhost \
    CSRF_TRUSTED_ORIGINS=http://localhost \
    DEFAULT_FROM_EMAIL=build@localhost \
    sh -c 'if find . -name "*.po" | grep -q .; then python manage.py compilemessages; fi \
           && python manage.py collectstatic --noinput' \
 && rm -f /tmp/build.sqlite3

# Non-root user; it owns only what it writes: collected static files and media.
RUN groupadd --system --gid 10001 ocop \
 && useradd --system --uid 10001 --gid ocop --home-dir /app --shell /usr/sbin/nologin ocop \
 && mkdir -p /data/media \
 && chown -R ocop:ocop /data/media /app/staticfiles
USER ocop

EXPOSE 8000
CMD ["bash", "scripts/web-start.sh"]
