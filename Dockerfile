# The chat service's image: `docker build -t escala:0.1.0 .`, then push it where the
# cluster's nodes can pull it and pass it to `escala deploy chat --image`.
FROM python:3.12-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged uid: the Kubernetes manifests run the pod as this user.
RUN groupadd --system --gid 10001 escala \
    && useradd --system --uid 10001 --gid escala --home-dir /var/lib/escala \
       --create-home --shell /usr/sbin/nologin escala

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /src

WORKDIR /var/lib/escala
USER 10001:10001
ENV ESCALA_CHAT_DATA_DIR=/var/lib/escala

EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2)"]

ENTRYPOINT ["escala", "chat", "serve"]
CMD ["--host", "0.0.0.0", "--port", "3000"]
