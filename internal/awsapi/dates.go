package awsapi

import (
	"strings"
	"time"
)

// epochDates rewrites, in place and at any depth, the timestamps of an
// engine output (RFC 3339 strings in fields named ...Date) as AWS JSON
// 1.1 sends them: epoch seconds, fractional.
func epochDates(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && strings.HasSuffix(k, "Date") {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					x[k] = float64(t.UnixNano()) / 1e9
				}
				continue
			}
			epochDates(val)
		}
	case []any:
		for _, e := range x {
			epochDates(e)
		}
	}
}
