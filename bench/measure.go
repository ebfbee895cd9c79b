package main

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// resetPeakRSS starts a new peak-memory window for the process: Linux
// resets VmHWM to the current RSS when "5" is written to clear_refs.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns the process's peak resident memory since the last reset,
// in bytes, or 0 where /proc is missing.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// Latencies collects durations and reports percentiles.
type Latencies struct{ d []time.Duration }

// Add records one duration.
func (l *Latencies) Add(d time.Duration) { l.d = append(l.d, d) }

// Merge adds another collection's durations.
func (l *Latencies) Merge(o *Latencies) { l.d = append(l.d, o.d...) }

// Percentile returns the p-th percentile (0-100) by nearest rank.
func (l *Latencies) Percentile(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

// ReportLatencies adds p50, p95 and p99 in milliseconds.
func (e *Env) ReportLatencies(what string, l *Latencies) {
	for _, p := range []float64{50, 95, 99} {
		e.Report(what+" p"+strconv.Itoa(int(p)), float64(l.Percentile(p).Microseconds())/1000, "ms")
	}
}
