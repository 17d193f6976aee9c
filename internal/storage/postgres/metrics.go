package postgres

import (
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports the connection pool's statistics as signet_db_*
// metrics, so an operator sees whether requests wait for connections
// (wait_count rising) or connections churn (max_*_closed rising).
type PoolCollector struct {
	s *Store

	maxOpen, open, inUse, idle *prometheus.Desc
	waitCount, waitSeconds     *prometheus.Desc
	idleClosed, idleTimeClosed *prometheus.Desc
	lifetimeClosed             *prometheus.Desc
}

// NewPoolCollector returns the collector of s's pool.
func NewPoolCollector(s *Store) *PoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("signet_db_"+name, help, nil, nil)
	}
	return &PoolCollector{
		s:              s,
		maxOpen:        d("max_open_connections", "Maximum number of open connections to the database."),
		open:           d("open_connections", "Established connections, in use and idle."),
		inUse:          d("in_use_connections", "Connections in use."),
		idle:           d("idle_connections", "Idle connections."),
		waitCount:      d("wait_count_total", "Times a request waited for a free connection."),
		waitSeconds:    d("wait_duration_seconds_total", "Total time requests waited for a free connection."),
		idleClosed:     d("max_idle_closed_total", "Connections closed because of the idle connections limit."),
		idleTimeClosed: d("max_idle_time_closed_total", "Connections closed because they were idle too long."),
		lifetimeClosed: d("max_lifetime_closed_total", "Connections closed because they reached their maximum lifetime."),
	}
}

// Describe implements prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitSeconds, c.idleClosed, c.idleTimeClosed, c.lifetimeClosed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.db.Stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(st.MaxOpenConnections))
	gauge(c.open, float64(st.OpenConnections))
	gauge(c.inUse, float64(st.InUse))
	gauge(c.idle, float64(st.Idle))
	counter(c.waitCount, float64(st.WaitCount))
	counter(c.waitSeconds, st.WaitDuration.Seconds())
	counter(c.idleClosed, float64(st.MaxIdleClosed))
	counter(c.idleTimeClosed, float64(st.MaxIdleTimeClosed))
	counter(c.lifetimeClosed, float64(st.MaxLifetimeClosed))
}
