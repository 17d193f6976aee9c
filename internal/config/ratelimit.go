package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultClientRegistrationRateLimit: ten registrations from one address
// at once, the count starting over after an hour without any.
const DefaultClientRegistrationRateLimit = "10/1h"

// Bounds of ParseRateLimit. A window over a day would keep counters the
// janitor deletes after a day (StaleLoginAttemptsAfter) anyway.
const (
	maxRateLimitCount  = 100000
	minRateLimitWindow = time.Second
	maxRateLimitWindow = 24 * time.Hour
)

// ParseRateLimit reads a limit written COUNT/WINDOW, such as "10/1h":
// COUNT (1 to 100000) attempts are admitted at once, and the count starts
// over after WINDOW (a Go duration, 1s to 24h) without any.
func ParseRateLimit(s string) (count int, window time.Duration, err error) {
	n, w, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q must be COUNT/WINDOW, such as %s", s, DefaultClientRegistrationRateLimit)
	}
	count, err = strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 1 || count > maxRateLimitCount {
		return 0, 0, fmt.Errorf("%q: the count must be a whole number from 1 to %d", s, maxRateLimitCount)
	}
	window, err = time.ParseDuration(strings.TrimSpace(w))
	if err != nil || window < minRateLimitWindow || window > maxRateLimitWindow {
		return 0, 0, fmt.Errorf("%q: the window must be a duration from %s to %s, such as 1h", s, minRateLimitWindow, maxRateLimitWindow)
	}
	return count, window, nil
}
