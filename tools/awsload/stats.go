package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// result is the summary of a run.
type result struct {
	requests, errors, warmupErrors int64
	rps                            float64
	p50, p90, p99, max             time.Duration
	cpu                            cpuDelta
	errorSamples                   map[string]int
}

func summarize(workers []*worker, elapsed time.Duration, cpu cpuDelta, samples map[string]int) *result {
	r := &result{cpu: cpu, errorSamples: samples}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.lat...)
		r.errors += w.errors
		r.warmupErrors += w.warmupErrors
	}
	r.requests = int64(len(all))
	if elapsed > 0 {
		r.rps = float64(r.requests) / elapsed.Seconds()
	}
	slices.Sort(all)
	r.p50, r.p90, r.p99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	if len(all) > 0 {
		r.max = all[len(all)-1]
	}
	return r
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted
// samples: the smallest sample with at least p% of all at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// cpuSample is user+system CPU time of this process and of the server.
type cpuSample struct {
	self, server time.Duration
	ok           bool
}

type cpuDelta = cpuSample

func (a cpuSample) sub(b cpuSample) cpuDelta {
	return cpuDelta{self: a.self - b.self, server: a.server - b.server, ok: a.ok && b.ok}
}

// sampleCPU reads /proc (Linux); ok is false elsewhere or when the server
// PID cannot be read.
func sampleCPU(serverPID int) cpuSample {
	self, err := procCPU("self")
	if err != nil {
		return cpuSample{}
	}
	s := cpuSample{self: self, ok: true}
	if serverPID != 0 {
		if s.server, err = procCPU(strconv.Itoa(serverPID)); err != nil {
			return cpuSample{}
		}
	}
	return s
}

// userHZ is the unit of the times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux architecture Go supports).
const userHZ = 100

func procCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStat(string(b))
}

// parseStat returns utime+stime of a /proc/<pid>/stat line. The command
// name (field 2) is in parentheses and may hold spaces, so fields are
// counted from the last ')': utime and stime are fields 14 and 15.
func parseStat(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
