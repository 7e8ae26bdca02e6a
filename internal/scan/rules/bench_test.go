package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// codeSample is ordinary code with the words the prefilter looks for
// (key, token, password, auth) used as code uses them.
const codeSample = `// Get returns the value stored under key, refreshing the token first.
func (s *Service) Get(ctx context.Context, key string) (*Value, error) {
	if err := s.auth.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	v, ok := s.cache[key]
	if !ok {
		v, err = s.store.Load(ctx, key)
	}
	cfg.Password = os.Getenv("DB_PASSWORD")
	for i, item := range v.Items {
		total += item.Price * float64(item.Count)
		log.Printf("item %d of order %s", i, v.OrderID)
	}
	return v, nil
}
`

func benchData(b *testing.B) []byte {
	var data bytes.Buffer
	for data.Len() < 4<<20 {
		data.WriteString(codeSample)
	}
	// the scan package's corpus: dense with secrets
	files, _ := filepath.Glob("../testdata/corpus/*/*")
	for _, f := range files {
		if raw, err := os.ReadFile(f); err == nil {
			data.Write(raw)
		}
	}
	return data.Bytes()
}

// BenchmarkMatcher measures the line scanner on one core: the prefilter
// pass plus the regular expressions of the lines it flags.
func BenchmarkMatcher(b *testing.B) {
	m := mustMatcher(b, nil, Allow{})
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		m.Scan(data, func(*Match) {})
	}
}

// BenchmarkPrefilter measures the Aho-Corasick pass alone.
func BenchmarkPrefilter(b *testing.B) {
	m := mustMatcher(b, nil, Allow{})
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	var hits int
	for b.Loop() {
		var s int32
		for _, c := range data {
			s = m.ac.delta[int(s)<<8|int(c)]
			if s >= m.ac.firstOut {
				hits++
			}
		}
	}
	_ = hits
}
