# The chat service's image. Build it with `escala image build` (which also tags it with
# the version and git commit) or by hand: `docker build -t escala:0.1.0 .`; publish it
# with `escala image push` (see docs/image.md).
#
# BASE_IMAGE is any image with python3 and its venv module: the official python:3.x-slim
# by default, a Debian-built one where no registry is reachable (the tests).
ARG BASE_IMAGE=python:3.12-slim

# --- Stage 1: every wheel escala needs, escala's own included. ---------------------
# Within constraints.txt, as the Makefile installs: the image gets the versions the
# suite last passed with, not whatever was released since. pip's cache survives between
# builds (a cache mount). Behind a TLS-intercepting proxy, pass the host's CA bundle as
# the `ca-bundle` secret (`escala image build` does).
FROM ${BASE_IMAGE} AS wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY . /src
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=ca-bundle \
    if [ -f /run/secrets/ca-bundle ]; then export PIP_CERT=/run/secrets/ca-bundle; fi; \
    python3 -m venv /opt/pip && /opt/pip/bin/pip wheel --constraint /src/constraints.txt --wheel-dir /wheels /src

# --- Stage 2: the runtime: a venv installed from those wheels only, no build tools. ---
FROM ${BASE_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/escala/bin:$PATH

# A fixed, unprivileged uid: the Kubernetes manifests run the pod as this user.
RUN groupadd --system --gid 10001 escala \
    && useradd --system --uid 10001 --gid escala --home-dir /var/lib/escala \
       --create-home --shell /usr/sbin/nologin escala

COPY --from=wheels /wheels /tmp/wheels
RUN python3 -m venv /opt/escala \
    && /opt/escala/bin/pip install --no-index --find-links /tmp/wheels escala \
    && rm -rf /tmp/wheels

WORKDIR /var/lib/escala
USER 10001:10001
ENV ESCALA_CHAT_DATA_DIR=/var/lib/escala

EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2)"]

# The chat server. Its options also come from ESCALA_CHAT_* variables (`docker run -e
# ESCALA_CHAT_REDIS=redis://...`); arguments after the image replace the whole CMD, so
# give --host 0.0.0.0 again with them.
ENTRYPOINT ["escala", "chat", "serve"]
CMD ["--host", "0.0.0.0", "--port", "3000"]
