# syntax=docker/dockerfile:1
# Builds the `sims` binary and ships it on a slim Debian base.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p sims-api \
 && cp target/release/sims /usr/local/bin/sims

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/sims --create-home sims
COPY --from=build /usr/local/bin/sims /usr/local/bin/sims
USER sims
WORKDIR /var/lib/sims
ENV SIMS_BIND=0.0.0.0:8080 \
    SIMS_MODE=production \
    SIMS_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET /ready HTTP/1.0\r\n\r\n" >&3 && head -n 1 <&3 | grep -q " 200 "'
ENTRYPOINT ["/usr/local/bin/sims"]
CMD ["serve"]
