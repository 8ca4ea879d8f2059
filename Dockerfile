# syntax=docker/dockerfile:1
# Builds the `fedgate` binary (with the panel's wasm inside) and runs it as an
# unprivileged user.
FROM rust:1.95-bookworm AS build
# The panel's wasm: the target and wasm-bindgen-cli at the library's pinned version.
RUN rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p fedgate-server \
 && cp target/release/fedgate /usr/local/bin/fedgate

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/fedgate fedgate \
 && mkdir -p /var/lib/fedgate && chown fedgate /var/lib/fedgate && chmod 0700 /var/lib/fedgate
COPY --from=build /usr/local/bin/fedgate /usr/local/bin/fedgate
USER fedgate
ENV FEDGATE_LISTEN=0.0.0.0:8080 \
    FEDGATE_DATA_DIR=/var/lib/fedgate \
    FEDGATE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["fedgate"]
CMD ["serve"]
