package main

import (
	"context"

	"github.com/labstack/echo/v4"
)

// registerOAuth mounts the OAuth2/OIDC endpoints on the public listener.
func registerOAuth(public *echo.Echo, d serverDeps) (background []func(ctx context.Context), err error) {
	return nil, nil
}
