# Sift: the HTTP API under gunicorn, serving the seeds indexed at build time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SIFT_INDEX_DIR=/var/lib/sift/index \
    SIFT_HOST=0.0.0.0 \
    SIFT_PORT=8000 \
    SIFT_WORKERS=2 \
    MALLOC_ARENA_MAX=1

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin sift

WORKDIR /app

# Dependencies first, so code changes do not reinstall them: exactly the locked versions,
# every file checked against its hash (requirements/runtime.txt, written by `make lock`).
# --no-deps: the lock already lists every dependency, so pip installs it as written instead
# of resolving again (pip 23's resolver refuses a locked file whose package asks for another
# with an extra, as justext asks for lxml[html_clean], once a newer lxml is published).
COPY requirements/runtime.txt ./requirements/
RUN pip install --no-deps --require-hashes -r requirements/runtime.txt

COPY pyproject.toml README.md ./

COPY index ./index
COPY search ./search
COPY api ./api
COPY seeds ./seeds
RUN pip install --no-deps . \
    && pip check \
    && mkdir -p /var/lib/sift \
    && chown sift /var/lib/sift

USER sift
# The seeds, indexed at build time into a private index folder owned by the sift user.
RUN sift reindex seeds/

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["gunicorn", "--config", "python:api.gunicorn_conf", "api.wsgi:app"]
