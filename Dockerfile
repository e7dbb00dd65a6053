# The MCP server over streamable HTTP, for a server or a NAS:
#   docker build -t sage-accounting-mcp .
#   docker run -d -p 127.0.0.1:8000:8000 -v sage-mcp-data:/data \
#     -e SAGE_CLIENT_ID=... -e SAGE_CLIENT_SECRET=... sage-accounting-mcp
# Sign in once into the same volume:
#   docker run --rm -it -v sage-mcp-data:/data -e SAGE_CLIENT_ID=... -e SAGE_CLIENT_SECRET=... \
#     sage-accounting-mcp auth login --no-browser
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY sage_mcp ./sage_mcp
COPY tool_schemas ./tool_schemas
RUN pip install -c constraints.txt . && rm -rf /build

# An unprivileged user owns the data folder (token store, HTTP bearer token, audit log): a volume.
RUN useradd --create-home --uid 10001 sage && mkdir -p /data && chown sage:sage /data && chmod 0700 /data
USER sage
WORKDIR /home/sage
ENV SAGE_DATA_DIR=/data
VOLUME ["/data"]

EXPOSE 8000
ENTRYPOINT ["sage-accounting-mcp"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
