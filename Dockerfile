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
ENTRYPOINT ["/signet"]
CMD ["serve"]
