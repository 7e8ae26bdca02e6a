package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/api"
)

// This file holds the pure text formatting shared by all commands, shaped
// like the Vault CLI's output so scripts and eyes used to Vault feel at home:
// tables with a Key/Value header underlined by dashes, columns separated by
// four spaces, empty cells shown as "n/a", TTL-like fields as durations.

const (
	columnGlue    = "    "
	emptyCell     = "n/a"
	maxLineLength = 78
)

// columns aligns rows into columns; the last column is not padded.
func columns(rows [][]string) string {
	widths := map[int]int{}
	cells := make([][]string, len(rows))
	for i, row := range rows {
		cells[i] = make([]string, len(row))
		for j, cell := range row {
			cell = strings.TrimSpace(cell)
			if cell == "" {
				cell = emptyCell
			}
			cells[i][j] = cell
			widths[j] = max(widths[j], len(cell))
		}
	}
	var b strings.Builder
	for i, row := range cells {
		if i > 0 {
			b.WriteByte('\n')
		}
		for j, cell := range row {
			if j == len(row)-1 {
				b.WriteString(cell)
				continue
			}
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", widths[j]-len(cell)))
			b.WriteString(columnGlue)
		}
	}
	return b.String()
}

// table renders header and rows with a dashed underline under the header.
func table(header []string, rows [][]string) string {
	under := make([]string, len(header))
	for i, h := range header {
		under[i] = strings.Repeat("-", len(h))
	}
	all := append([][]string{header, under}, rows...)
	return columns(all)
}

// kvTable renders a map as a sorted Key/Value table; "" when m is empty.
func kvTable(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	return table([]string{"Key", "Value"}, mapRows(m))
}

func mapRows(m map[string]any) [][]string {
	keys := sortedKeys(m)
	rows := make([][]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		if looksLikeDuration(k) {
			v = humanDurationValue(v)
		}
		rows = append(rows, []string{k, fmt.Sprintf("%v", v)})
	}
	return rows
}

// secretRows returns the table rows Vault prints for a whole secret: lease,
// auth and wrap information first, then the data keys in sorted order.
func secretRows(s *api.Secret) [][]string {
	var rows [][]string
	add := func(k string, v any) { rows = append(rows, []string{k, fmt.Sprintf("%v", v)}) }
	if s.LeaseDuration > 0 {
		if s.LeaseID != "" {
			add("lease_id", s.LeaseID)
			add("lease_duration", humanDuration(time.Duration(s.LeaseDuration)*time.Second))
			add("lease_renewable", s.Renewable)
		} else {
			add("refresh_interval", humanDuration(time.Duration(s.LeaseDuration)*time.Second))
		}
	}
	if a := s.Auth; a != nil {
		add("token", a.ClientToken)
		add("token_accessor", a.Accessor)
		if a.LeaseDuration == 0 {
			add("token_duration", "∞")
		} else {
			add("token_duration", humanDuration(time.Duration(a.LeaseDuration)*time.Second))
		}
		add("token_renewable", a.Renewable)
		add("token_policies", quoted(a.TokenPolicies))
		add("identity_policies", quoted(a.IdentityPolicies))
		add("policies", quoted(a.Policies))
		for _, k := range sortedKeys(a.Metadata) {
			add("token_meta_"+k, a.Metadata[k])
		}
	}
	if w := s.WrapInfo; w != nil {
		add("wrapping_token:", w.Token)
		add("wrapping_accessor:", w.Accessor)
		add("wrapping_token_ttl:", humanDuration(time.Duration(w.TTL)*time.Second))
		add("wrapping_token_creation_time:", w.CreationTime.String())
		add("wrapping_token_creation_path:", w.CreationPath)
		if w.WrappedAccessor != "" {
			add("wrapped_accessor:", w.WrappedAccessor)
		}
	}
	return append(rows, mapRows(s.Data)...)
}

// secretTable renders a secret as a Key/Value table; "" when it is empty.
func secretTable(s *api.Secret) string {
	rows := secretRows(s)
	if len(rows) == 0 {
		return ""
	}
	return table([]string{"Key", "Value"}, rows)
}

// quoted prints a string list as Vault does with %q: ["a" "b"].
func quoted(list []string) string {
	if list == nil {
		list = []string{}
	}
	return fmt.Sprintf("%q", list)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// looksLikeDuration reports whether a field holds seconds that read better
// as a duration.
func looksLikeDuration(k string) bool {
	return k == "period" || strings.HasSuffix(k, "_period") ||
		k == "ttl" || strings.HasSuffix(k, "_ttl") ||
		k == "duration" || strings.HasSuffix(k, "_duration") ||
		k == "lease_max" || k == "ttl_max"
}

// humanDurationValue turns a number of seconds into a duration string and
// leaves anything else alone.
func humanDurationValue(v any) any {
	var secs int64
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return v
		}
		secs = i
	case int:
		secs = int64(n)
	case int64:
		secs = n
	case float64:
		secs = int64(n)
	default:
		return v
	}
	return humanDuration(time.Duration(secs) * time.Second)
}

// humanDuration prints d like Go does, minus zero minutes and seconds:
// 768h, 1h30m, 45s.
func humanDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if i := strings.Index(s, "h0m"); i > 0 {
		s = s[:i+1] + s[i+3:]
	}
	return s
}

// padEqualSigns centres header in a line of equal signs about totalLen wide.
func padEqualSigns(header string, totalLen int) string {
	n := totalLen - (len(header) + 2)
	if n <= 0 {
		n = 4
	}
	if n%2 != 0 {
		n++
	}
	side := strings.Repeat("=", n/2)
	return side + " " + header + " " + side
}

// headerForMap sizes a section header to the table printed below it.
func headerForMap(header string, m map[string]any) string {
	longest := 0
	for k := range m {
		longest = max(longest, len(k))
	}
	return padEqualSigns(header, longest+len(columnGlue)+len("Value"))
}

// wrapAtLength word-wraps s to maxLineLength columns minus pad, indenting
// every line by pad spaces.
func wrapAtLength(s string, pad int) string {
	width := maxLineLength - pad
	indent := strings.Repeat(" ", pad)
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case len(line)+1+len(w) > width:
				lines = append(lines, indent+line)
				line = w
			default:
				line += " " + w
			}
		}
		lines = append(lines, indent+line)
	}
	return strings.Join(lines, "\n")
}

// jsonIndent renders v as two-space indented JSON, as Vault's -format=json.
func jsonIndent(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("formatting JSON output: %w", err)
	}
	return string(b), nil
}
