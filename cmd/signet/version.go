package main

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// version is set at build time with -ldflags "-X main.version=…" (the
// Dockerfile passes its VERSION build argument).
var version = "dev"

// buildVersion is the version this binary reports: the one set at build
// time; else the module version `go install …@v1.2.3` records; else, for
// a build from a checkout, "dev" with the commit (and "-dirty" when the
// tree had changes).
func buildVersion() string {
	if version != "dev" && version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "dev"
	}
	return "dev-" + rev + dirty
}

// registerBuildInfo publishes signet_build_info{version,goversion} 1, the
// usual Prometheus way to see which version each replica runs.
func registerBuildInfo(reg prometheus.Registerer, v string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "signet_build_info",
		Help: "Always 1; the labels say which version of Signet this process runs.",
	}, []string{"version", "goversion"})
	g.WithLabelValues(v, runtime.Version()).Set(1)
	reg.MustRegister(g)
}
