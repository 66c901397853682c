# One multi-stage build for every binary of the workspace. cargo-chef caches the dependency layer:
# changing a service's code rebuilds only the workspace crates. Each service is a small target
# on distroless (no shell, no package manager) running as a non-root user.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
# The slim image has only ca-certificates, gcc and libc6-dev beyond Debian's base. protoc builds
# the embedded trace store's gRPC code (leakstorm CLI); make runs tikv-jemalloc-sys's build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make protobuf-compiler \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install --locked cargo-chef --version 0.1.78
WORKDIR /build

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /build/recipe.json recipe.json
# Issue 10: .cargo/config.toml carries `--cfg tokio_unstable` (task accounting by spawn site).
# It must be in place before `cargo chef cook`, or the cooked dependencies are built without it
# and the `COPY . .` below rebuilds them all. Set no RUSTFLAGS here: it would replace the flags.
COPY .cargo .cargo
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bins \
 && mkdir -p /out \
 && cp target/release/gateway target/release/payments target/release/risk target/release/ledger target/release/leakstorm /out/

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
WORKDIR /app
ENV HOST=0.0.0.0 RUST_LOG=info
# distroless's nonroot user by number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 65532:65532

FROM runtime AS gateway
COPY --from=builder /out/gateway /usr/local/bin/service
ENV PORT=8080 OTEL_SERVICE_NAME=gateway
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --retries=12 CMD ["/usr/local/bin/service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/service"]

FROM runtime AS payments
COPY --from=builder /out/payments /usr/local/bin/service
ENV PORT=8081 OTEL_SERVICE_NAME=payments
EXPOSE 8081
HEALTHCHECK --interval=5s --timeout=3s --retries=12 CMD ["/usr/local/bin/service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/service"]

FROM runtime AS risk
COPY --from=builder /out/risk /usr/local/bin/service
ENV PORT=8082 OTEL_SERVICE_NAME=risk
EXPOSE 8082
HEALTHCHECK --interval=5s --timeout=3s --retries=12 CMD ["/usr/local/bin/service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/service"]

FROM runtime AS ledger
COPY --from=builder /out/ledger /usr/local/bin/service
ENV PORT=8083 OTEL_SERVICE_NAME=ledger
EXPOSE 8083
HEALTHCHECK --interval=5s --timeout=3s --retries=12 CMD ["/usr/local/bin/service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/service"]

# The replay, run inside the compose network (`make replay`): leakstorm plus k6 and its scripts.
FROM runtime AS replay
COPY --from=grafana/k6:1.1.0 /usr/bin/k6 /usr/local/bin/k6
COPY --from=builder /out/leakstorm /usr/local/bin/leakstorm
COPY k6 /app/k6
ENTRYPOINT ["/usr/local/bin/leakstorm"]
CMD ["replay", "--target", "compose", "--help"]
