package scan

import (
	"encoding/json"
	"io"
)

// Shown is a finding as printed: the secret redacted unless shown.
type Shown struct {
	Finding
	Secret string `json:"secret"`
}

// Show returns the findings as printed.
func Show(fs []Finding, show bool) []Shown {
	out := make([]Shown, len(fs))
	for i, f := range fs {
		s := Redact(f.Secret)
		if show {
			s = f.Secret
		}
		out[i] = Shown{Finding: f, Secret: s}
	}
	return out
}

// WriteJSON writes the findings as an indented JSON array.
func WriteJSON(w io.Writer, fs []Finding, show bool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(Show(fs, show))
}
