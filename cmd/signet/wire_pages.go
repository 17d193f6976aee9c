package main

import "github.com/labstack/echo/v4"

// registerPages mounts the pages people see (login, consent, logout,
// account) and their stylesheet on the public listener.
func registerPages(public *echo.Echo, d serverDeps) error { return nil }
