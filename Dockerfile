# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/signet ./cmd/signet

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/signet /signet
USER nonroot:nonroot
EXPOSE 8080 8081
# The image has no shell or curl: the binary asks its own admin listener
# (SIGNET_ADMIN_LISTEN, default 127.0.0.1:8081) whether it is ready.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/signet", "healthcheck"]
ENTRYPOINT ["/signet"]
CMD ["serve"]
