# syntax=docker/dockerfile:1
#
# Signet's container image: a static binary on distroless static (CA
# certificates, a nonroot user, no shell). See docs/install.md.
#
#   docker build -t signet --build-arg VERSION=v1.2.3 \
#     --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg CREATED=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd) .
#   docker run -p 8080:8080 signet serve --dev --listen :8080
#
# CI builds the same runtime image without a daemon (tools/image, called by
# .ci/release.sh) and checks that this file's runtime stage declares the
# same user, volume, port, entrypoint, command and health check.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH
ARG VERSION=(devel) REVISION= CREATED= MODIFIED=
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X main.version=${VERSION} -X main.revision=${REVISION} -X main.buildTime=${CREATED} -X main.modified=${MODIFIED}" \
      -o /out/signet ./cmd/signet \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=(devel) REVISION= CREATED=
LABEL org.opencontainers.image.title="signet" \
      org.opencontainers.image.description="An OpenID Connect / OAuth 2.0 token server whose signing keys manage themselves" \
      org.opencontainers.image.source="https://github.com/signet-id/signet" \
      org.opencontainers.image.url="https://github.com/signet-id/signet" \
      org.opencontainers.image.documentation="https://github.com/signet-id/signet/blob/main/docs/install.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/signet /signet
# The embedded store (sqlite or file) lives here; mount a volume on it.
COPY --from=build --chown=65532:65532 --chmod=0700 /out/data /data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080/tcp
# The configuration must listen on :8080 (not 127.0.0.1) to be reachable
# from outside the container; the health check calls 127.0.0.1:8080.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/signet", "healthcheck"]
ENTRYPOINT ["/signet"]
CMD ["serve", "--config", "/etc/signet/signet.yaml"]
