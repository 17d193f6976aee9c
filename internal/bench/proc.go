package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ServerUsage is what the server's process used during an operation.
type ServerUsage struct {
	// CPUSeconds is user plus system CPU time; CPUPercent relates it to the
	// wall time (200% is two cores busy).
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPercent float64 `json:"cpu_percent"`
	// CPUMsPerOp is CPU milliseconds per completed iteration.
	CPUMsPerOp float64 `json:"cpu_ms_per_op"`
	// RSSBytes is the resident memory at the end of the operation.
	RSSBytes int64 `json:"rss_bytes"`
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (the kernel's HZ may differ,
// but /proc reports in USER_HZ), and reading it needs cgo (sysconf).
const clockTicks = 100

// procCPU returns the process's user plus system CPU time.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("server CPU: %w", err)
	}
	return parseStat(b)
}

// parseStat reads utime and stime (fields 14 and 15) from a stat line.
// The command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so fields are counted after its last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("server CPU: unexpected /proc stat line")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("server CPU: short /proc stat line")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("server CPU: unexpected utime/stime %q %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// procRSS returns the process's resident memory (VmRSS).
func procRSS(pid int) (int64, error) {
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("server memory: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb * 1024, nil
				}
			}
			return 0, fmt.Errorf("server memory: unexpected VmRSS line %q", rest)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("server memory: %w", err)
	}
	return 0, fmt.Errorf("server memory: no VmRSS in /proc/%d/status", pid)
}
