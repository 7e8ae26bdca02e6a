package transit

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"sync"
	"testing"
)

// TestMain makes RSA key generation draw from a pool of two keys per size
// (generated on first use), since generating RSA keys takes seconds. Two
// rotations in a row still get distinct keys.
func TestMain(m *testing.M) {
	pool := &rsaPool{keys: map[int][]*rsa.PrivateKey{}, next: map[int]int{}}
	generateRSAKey = pool.get
	os.Exit(m.Run())
}

type rsaPool struct {
	mu   sync.Mutex
	keys map[int][]*rsa.PrivateKey
	next map[int]int
}

func (p *rsaPool) get(bits int) (*rsa.PrivateKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.keys[bits]) < 2 {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, err
		}
		p.keys[bits] = append(p.keys[bits], k)
		return k, nil
	}
	k := p.keys[bits][p.next[bits]%2]
	p.next[bits]++
	return k, nil
}
