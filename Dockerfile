# One image for every role: web (default CMD), Celery worker, Celery beat, migrate.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Dependencies first: a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected into the image (served by WhiteNoise); the key is a
# throwaway that only lets settings load. var/ holds Celery beat's schedule file.
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin transbordo \
    && mkdir -p /app/var/media \
    && chown -R transbordo:transbordo /app/var

USER transbordo

EXPOSE 8000
# Workers: gunicorn reads WEB_CONCURRENCY (default 2 here, one per core, as compose).
ENV WEB_CONCURRENCY=2
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
