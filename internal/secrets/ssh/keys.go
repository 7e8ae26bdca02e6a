package ssh

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// minUserRSABits is the smallest RSA key the engine signs at all: OpenSSH
// refuses smaller ones.
const minUserRSABits = 1024

// parsePublicKey parses an SSH public key sent as an authorized_keys line
// (options and a comment allowed) or as the bare base64 blob. Certificates
// and more than one key are refused. Errors describe the problem, never
// quote the input.
func parsePublicKey(text string) (ssh.PublicKey, error) {
	if len(text) > maxKeyText {
		return nil, fmt.Errorf("the key is longer than %d bytes", maxKeyText)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("the key is empty")
	}
	key, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(text))
	if err != nil {
		blob, derr := base64.StdEncoding.DecodeString(text)
		if derr != nil {
			return nil, errors.New("expected an authorized_keys line such as \"ssh-ed25519 AAAA... comment\"")
		}
		if key, err = ssh.ParsePublicKey(blob); err != nil {
			return nil, errors.New("the key data is not a valid SSH public key")
		}
	} else if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("send exactly one key")
	}
	if _, isCert := key.(*ssh.Certificate); isCert {
		return nil, errors.New("the key is a certificate; send the plain public key")
	}
	return key, nil
}

// keyKind returns the family and size of a key to sign: "rsa" with its
// modulus bits, "ecdsa" with its curve bits, "ed25519" (bits 256), or an
// error for key types the engine does not sign.
func keyKind(pub ssh.PublicKey) (kind string, bits int, err error) {
	cpk, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return "", 0, fmt.Errorf("keys of type %s are not supported", pub.Type())
	}
	switch k := cpk.CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minUserRSABits {
			return "", 0, fmt.Errorf("RSA keys must have at least %d bits, this one has %d", minUserRSABits, k.N.BitLen())
		}
		return "rsa", k.N.BitLen(), nil
	case *ecdsa.PublicKey:
		return "ecdsa", k.Curve.Params().BitSize, nil
	case ed25519.PublicKey:
		return "ed25519", 256, nil
	}
	return "", 0, fmt.Errorf("keys of type %s are not supported", pub.Type())
}

// keyLengthNames maps every name allowed_user_key_lengths accepts to the
// key family it constrains; named curves fix the size themselves.
var keyLengthNames = map[string]struct {
	kind  string
	fixed int // curve bits when the name fixes the size, else 0
}{
	"rsa": {"rsa", 0}, ssh.KeyAlgoRSA: {"rsa", 0},
	"ec": {"ecdsa", 0}, "ecdsa": {"ecdsa", 0},
	ssh.KeyAlgoECDSA256: {"ecdsa", 256}, ssh.KeyAlgoECDSA384: {"ecdsa", 384}, ssh.KeyAlgoECDSA521: {"ecdsa", 521},
	"ed25519": {"ed25519", 256}, ssh.KeyAlgoED25519: {"ed25519", 256},
}

// checkKeyLength applies a role's allowed_user_key_lengths (empty: any
// key is accepted). A name that fixes the size matches any key of that
// size; rsa, ec and ecdsa need the key's size among the listed values.
func checkKeyLength(pub ssh.PublicKey, allowed map[string][]int) error {
	kind, bits, err := keyKind(pub)
	if err != nil || len(allowed) == 0 {
		return err
	}
	present := false
	for name, sizes := range allowed {
		n := keyLengthNames[name]
		if n.kind != kind {
			continue
		}
		present = true
		if n.fixed != 0 && n.fixed == bits {
			return nil
		}
		for _, s := range sizes {
			if n.fixed == 0 && s == bits {
				return nil
			}
		}
	}
	if !present {
		return fmt.Errorf("keys of type %s are not allowed by this role", kind)
	}
	return fmt.Errorf("%s keys of %d bits are not allowed by this role", kind, bits)
}

// parseKeyLengths converts the allowed_user_key_lengths map sent to a role:
// each value is a number, a list of numbers, or a comma-separated string.
func parseKeyLengths(m map[string]any) (map[string][]int, error) {
	out := make(map[string][]int, len(m))
	for name, v := range m {
		if _, ok := keyLengthNames[name]; !ok {
			return nil, fmt.Errorf("unknown key type %q: use rsa, ec, ecdsa, ed25519 or an OpenSSH key type name", name)
		}
		sizes, err := keySizes(v)
		if err != nil {
			return nil, fmt.Errorf("key type %q: %v", name, err)
		}
		out[name] = sizes
	}
	return out, nil
}

func keySizes(v any) ([]int, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case string:
		for _, p := range splitList(x) {
			items = append(items, p)
		}
	default:
		items = []any{x}
	}
	sizes := make([]int, 0, len(items))
	for _, it := range items {
		n, err := keySize(it)
		if err != nil {
			return nil, err
		}
		sizes = append(sizes, n)
	}
	sort.Ints(sizes)
	return sizes, nil
}

func keySize(v any) (int, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		s = strconv.Itoa(x)
	default:
		return 0, errors.New("sizes must be numbers")
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 1<<16 {
		return 0, errors.New("sizes must be whole numbers of bits")
	}
	return n, nil
}
