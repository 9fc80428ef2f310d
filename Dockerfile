# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 tracker

# The runtime lock (generated from pyproject.toml by ./dev lock): every package pinned and
# hash-checked, so the image gets exactly the files that were locked.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt

COPY . .
# Static files are collected into the image, so that the image alone serves pages.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret-0123456789abcdef EMAIL_URL=dummymail:// \
    MFA_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtYS1zZWNyZXQtMDEyMzQ1Njc= \
    python manage.py collectstatic --no-input -v 0 \
 && mkdir -p /app/var/exports \
 && chown -R tracker:tracker /app/var

USER tracker
EXPOSE 8000
CMD ["gunicorn", "tracker.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
