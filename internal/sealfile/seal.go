package sealfile

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Errors. Messages built on them name places (paths, lines) and never
// values.
var (
	// ErrInvalid: the input or the options are malformed; the message says
	// what to fix.
	ErrInvalid = errors.New("invalid input")
	// ErrAlreadySealed: Seal was given a file that carries kinko metadata.
	ErrAlreadySealed = errors.New("the file is already sealed")
	// ErrNotSealed: Open was given a file without kinko metadata.
	ErrNotSealed = errors.New("the file is not sealed by kinko (no kinko metadata)")
	// ErrMAC: a value, key, or the order of entries changed after sealing,
	// or a value was moved or does not belong to this file's data key.
	ErrMAC = errors.New("MAC check failed: the file was modified after it was sealed")
	// ErrNoKey: none of the key sources could recover the data key.
	ErrNoKey = errors.New("no key source could decrypt the data key")
	// ErrNotMine: returned (wrapped) by KeySource.Unwrap for a stanza that
	// belongs to another source; the caller tries the next.
	ErrNotMine = errors.New("stanza is not for this key source")
	// ErrServer: the kinko server answered a key source with an error or
	// could not be reached.
	ErrServer = errors.New("server error")
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Format is the syntax of a file.
type Format string

// The formats.
const (
	YAML   Format = "yaml"
	JSON   Format = "json"
	Dotenv Format = "dotenv"
	INI    Format = "ini"
)

// Modes of a YAML or JSON file.
const (
	ModeAuto  = ""      // SealOptions: k8s for a v1 Secret manifest, else plain
	ModePlain = "plain" // SealOptions: never k8s
	ModeK8s   = "k8s"   // a Kubernetes Secret: only data and stringData values are sealed
)

// maxInput caps the size of a file this package parses.
const maxInput = 64 << 20

// FormatFromName tells the format from a file name: .yaml/.yml, .json,
// .env (or a name starting with .env, e.g. .env.production), .ini/.cfg.
func FormatFromName(name string) (Format, error) {
	base := strings.ToLower(filepath.Base(name))
	switch ext := filepath.Ext(base); {
	case ext == ".yaml" || ext == ".yml":
		return YAML, nil
	case ext == ".json":
		return JSON, nil
	case ext == ".env" || base == ".env" || strings.HasPrefix(base, ".env."):
		return Dotenv, nil
	case ext == ".ini" || ext == ".cfg":
		return INI, nil
	}
	return "", invalid("cannot tell the format of %s from its name; give it (yaml, json, dotenv, ini or k8s)", filepath.Base(name))
}

// SealOptions configures Seal.
type SealOptions struct {
	Format  Format
	Mode    string      // ModeAuto, ModePlain or ModeK8s (YAML and JSON only)
	Sources []KeySource // at least one; each wraps the data key
	// Selection rules (see the package doc); at most one of them.
	EncryptedRegex    string
	UnencryptedRegex  string
	UnencryptedSuffix string
	Now               func() time.Time // for lastmodified; time.Now when nil
}

// OpenOptions configures Open.
type OpenOptions struct {
	Format  Format
	Sources []KeySource // tried in order against every stanza of the file
}

// entryKind is what an entry of a document is.
type entryKind uint8

const (
	kindScalar entryKind = iota + 1
	kindNull
	kindEmptyMap
	kindEmptySeq
	kindAlias
	kindSection
)

// entry is one item of a document in document order. Scalars can be
// rewritten in place through set: a token (sealed), or a plaintext of
// type typ.
type entry struct {
	path  []seg
	kind  entryKind
	typ   string                               // scalars: the value's type as the document shows it
	value string                               // the text as found: plaintext, or a token when sealed
	set   func(value, typ string, sealed bool) // sealed: value is a token
	line  int                                  // 1-based, for messages; 0 when unknown

	plain  string // the plaintext, once known
	sealed bool   // selected for sealing
	token  string // Open: the token the value was read from
}

// where names the entry's place for messages.
func (e *entry) where() string {
	if e.line > 0 {
		return fmt.Sprintf("%s (line %d)", displayPath(e.path), e.line)
	}
	return displayPath(e.path)
}

// document is one parsed file of some format.
type document interface {
	// takeMetadata removes the kinko metadata and returns it (nil when
	// the document has none).
	takeMetadata() (*Metadata, error)
	putMetadata(*Metadata) error
	walk() ([]*entry, error)
	bytes() ([]byte, error)
}

func parse(f Format, b []byte) (document, error) {
	if len(b) > maxInput {
		return nil, invalid("the file is larger than %d MiB", maxInput>>20)
	}
	switch f {
	case YAML:
		return parseYAML(b)
	case JSON:
		return parseJSON(b)
	case Dotenv:
		return parseDotenv(b)
	case INI:
		return parseINI(b)
	}
	return nil, invalid("unknown format %q (use yaml, json, dotenv or ini)", string(f))
}

// Seal encrypts the values of plaintext under a fresh data key wrapped by
// every source, and returns the sealed file.
func Seal(ctx context.Context, plaintext []byte, opts SealOptions) ([]byte, error) {
	if len(opts.Sources) == 0 {
		return nil, invalid("no key source: give at least one age recipient or transit key")
	}
	doc, entries, err := parsePlain(opts.Format, plaintext)
	if err != nil {
		return nil, err
	}
	mode, err := resolveMode(opts.Format, opts.Mode, entries)
	if err != nil {
		return nil, err
	}
	meta := &Metadata{Version: 1, Mode: mode, EncryptedRegex: opts.EncryptedRegex,
		UnencryptedRegex: opts.UnencryptedRegex, UnencryptedSuffix: opts.UnencryptedSuffix}
	dataKey := make([]byte, dataKeySize)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, err
	}
	defer clear(dataKey)
	for _, src := range opts.Sources {
		st, err := src.Wrap(ctx, dataKey)
		if err != nil {
			return nil, err
		}
		meta.Keys = append(meta.Keys, st)
	}
	return sealDocument(doc, entries, meta, dataKey, nil, opts.Now)
}

// parsePlain parses a file that must not be sealed yet.
func parsePlain(f Format, plaintext []byte) (document, []*entry, error) {
	doc, err := parse(f, plaintext)
	if err != nil {
		return nil, nil, err
	}
	m, err := doc.takeMetadata()
	if err != nil {
		return nil, nil, err
	}
	if m != nil {
		return nil, nil, ErrAlreadySealed
	}
	entries, err := doc.walk()
	return doc, entries, err
}

// sealDocument seals the selected entries (reusing prev's tokens for
// unchanged values), computes the MAC and writes the metadata.
func sealDocument(doc document, entries []*entry, meta *Metadata, dataKey []byte,
	prev map[string]*entry, now func() time.Time) ([]byte, error) {
	sel, err := newSelector(meta)
	if err != nil {
		return nil, err
	}
	if meta.Mode == ModeK8s {
		if err := checkK8s(entries); err != nil {
			return nil, err
		}
	}
	k, err := deriveKeys(dataKey)
	if err != nil {
		return nil, err
	}
	defer k.wipe()
	for _, e := range entries {
		if e.kind != kindScalar {
			continue
		}
		e.plain, e.sealed = e.value, sel.sealed(e.path)
		if !e.sealed {
			continue
		}
		canon := canonicalPath(e.path)
		if p := prev[string(canon)]; p != nil && p.typ == e.typ && p.plain == e.plain {
			e.set(p.value, e.typ, true)
			continue
		}
		t, err := k.encrypt(e.plain, e.typ, canon)
		if err != nil {
			return nil, err
		}
		e.set(t.String(), e.typ, true)
	}
	if now == nil {
		now = time.Now
	}
	meta.LastModified = now().UTC().Format(time.RFC3339)
	mt, err := k.encrypt(string(computeMAC(k, entries, meta)), typeStr, macPath)
	if err != nil {
		return nil, err
	}
	meta.MAC = mt.String()
	if err := doc.putMetadata(meta); err != nil {
		return nil, err
	}
	return doc.bytes()
}

// computeMAC hashes every entry and the metadata that changes meaning.
func computeMAC(k *keys, entries []*entry, meta *Metadata) []byte {
	m := newMAC(k)
	for _, e := range entries {
		m.field([]byte{byte(e.kind)})
		m.field(canonicalPath(e.path))
		switch e.kind {
		case kindScalar:
			sealed := "0"
			if e.sealed {
				sealed = "1"
			}
			m.str(e.typ)
			m.str(sealed)
			m.str(e.plain)
		case kindNull, kindAlias:
			m.str(e.value)
		}
	}
	m.str("version")
	m.str(fmt.Sprint(meta.Version))
	m.str(meta.Mode)
	m.str(meta.EncryptedRegex)
	m.str(meta.UnencryptedRegex)
	m.str(meta.UnencryptedSuffix)
	m.str(meta.LastModified)
	return m.sum()
}

// resolveMode decides whether a tree file is a Kubernetes Secret.
func resolveMode(f Format, mode string, entries []*entry) (string, error) {
	isTree := f == YAML || f == JSON
	switch mode {
	case ModeAuto:
		if isTree && isK8sSecret(entries) {
			return ModeK8s, nil
		}
		return "", nil
	case ModePlain:
		return "", nil
	case ModeK8s:
		if !isTree || !isK8sSecret(entries) {
			return "", invalid("k8s mode needs a YAML or JSON manifest with apiVersion: v1 and kind: Secret")
		}
		return ModeK8s, nil
	}
	return "", invalid("unknown mode %q (use k8s or plain)", mode)
}

// selector decides which scalars are sealed.
type selector struct {
	k8s    bool
	enc    *regexp.Regexp
	unenc  *regexp.Regexp
	suffix string
}

func newSelector(m *Metadata) (*selector, error) {
	s := &selector{k8s: m.Mode == ModeK8s, suffix: m.UnencryptedSuffix}
	n := 0
	for _, r := range []string{m.EncryptedRegex, m.UnencryptedRegex, m.UnencryptedSuffix} {
		if r != "" {
			n++
		}
		if len(r) > 1024 || strings.ContainsAny(r, "\r\n") {
			return nil, invalid("a selection rule must be one line of at most 1024 bytes")
		}
	}
	if n > 1 {
		return nil, invalid("give at most one of encrypted_regex, unencrypted_regex and unencrypted_suffix")
	}
	var err error
	if m.EncryptedRegex != "" {
		if s.enc, err = regexp.Compile(m.EncryptedRegex); err != nil {
			return nil, invalid("encrypted_regex: %v", err)
		}
	}
	if m.UnencryptedRegex != "" {
		if s.unenc, err = regexp.Compile(m.UnencryptedRegex); err != nil {
			return nil, invalid("unencrypted_regex: %v", err)
		}
	}
	return s, nil
}

func (s *selector) sealed(path []seg) bool {
	if s.k8s {
		return len(path) >= 2 && !path[0].isIdx && (path[0].key == "data" || path[0].key == "stringData")
	}
	matched := false
	for _, p := range path {
		if p.isIdx {
			continue
		}
		if s.unenc != nil && s.unenc.MatchString(p.key) || s.suffix != "" && strings.HasSuffix(p.key, s.suffix) {
			return false
		}
		if s.enc != nil && s.enc.MatchString(p.key) {
			matched = true
		}
	}
	return s.enc == nil || matched
}

// Opened is a decrypted file: its plaintext, and what Reseal needs to
// seal an edited version under the same data key. Close it when done.
type Opened struct {
	format    Format
	meta      *Metadata
	dataKey   []byte
	entries   []*entry
	plaintext []byte
}

// Open verifies and decrypts a sealed file.
func Open(ctx context.Context, sealed []byte, opts OpenOptions) (*Opened, error) {
	doc, err := parse(opts.Format, sealed)
	if err != nil {
		return nil, err
	}
	meta, err := doc.takeMetadata()
	if err != nil {
		return nil, err
	}
	if meta == nil {
		return nil, ErrNotSealed
	}
	if err := meta.validate(); err != nil {
		return nil, err
	}
	sel, err := newSelector(meta)
	if err != nil {
		return nil, err
	}
	entries, err := doc.walk()
	if err != nil {
		return nil, err
	}
	dataKey, err := unwrapDataKey(ctx, meta.Keys, opts.Sources)
	if err != nil {
		return nil, err
	}
	if err := openEntries(dataKey, sel, entries, meta); err != nil {
		clear(dataKey)
		return nil, err
	}
	plain, err := doc.bytes()
	if err != nil {
		clear(dataKey)
		return nil, err
	}
	return &Opened{format: opts.Format, meta: meta, dataKey: dataKey, entries: entries, plaintext: plain}, nil
}

// openEntries decrypts every sealed entry in place and verifies the MAC.
func openEntries(dataKey []byte, sel *selector, entries []*entry, meta *Metadata) error {
	k, err := deriveKeys(dataKey)
	if err != nil {
		return err
	}
	defer k.wipe()
	for _, e := range entries {
		if e.kind != kindScalar {
			continue
		}
		e.plain, e.sealed = e.value, sel.sealed(e.path)
		if !e.sealed {
			continue
		}
		t, err := parseToken(e.value)
		if err != nil {
			return fmt.Errorf("%w: the value at %s is not a valid token: %v", ErrMAC, e.where(), err)
		}
		plain, err := k.decrypt(t, canonicalPath(e.path))
		if err != nil {
			return fmt.Errorf("%w: the value at %s was changed or moved", ErrMAC, e.where())
		}
		e.plain, e.typ, e.token = plain, t.typ, e.value
		e.set(plain, t.typ, false)
	}
	mt, err := parseToken(meta.MAC)
	if err != nil {
		return fmt.Errorf("%w: the stored MAC is not a valid token: %v", ErrMAC, err)
	}
	stored, err := k.decrypt(mt, macPath)
	if err != nil {
		return fmt.Errorf("%w: the stored MAC does not decrypt", ErrMAC)
	}
	if !hmac.Equal([]byte(stored), computeMAC(k, entries, meta)) {
		return fmt.Errorf("%w: a value, a key, or the order or number of entries differs", ErrMAC)
	}
	return nil
}

// Unseal verifies and decrypts a sealed file and returns its plaintext.
func Unseal(ctx context.Context, sealed []byte, opts OpenOptions) ([]byte, error) {
	o, err := Open(ctx, sealed, opts)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return o.Plaintext(), nil
}

// Plaintext returns the decrypted file.
func (o *Opened) Plaintext() []byte { return o.plaintext }

// Metadata returns a copy of the file's metadata.
func (o *Opened) Metadata() Metadata {
	m := *o.meta
	m.Keys = append([]Stanza(nil), o.meta.Keys...)
	return m
}

// Reseal seals an edited plaintext under the same data key and key
// sources; values whose path, type and text are unchanged keep their
// tokens. No key source is contacted.
func (o *Opened) Reseal(plaintext []byte, now func() time.Time) ([]byte, error) {
	if o.dataKey == nil {
		return nil, errors.New("sealfile: Reseal after Close")
	}
	doc, entries, err := parsePlain(o.format, plaintext)
	if err != nil {
		if errors.Is(err, ErrAlreadySealed) {
			return nil, invalid("the edited file must not contain kinko metadata")
		}
		return nil, err
	}
	prev := map[string]*entry{}
	for _, e := range o.entries {
		if e.kind != kindScalar || !e.sealed {
			continue
		}
		if key := string(canonicalPath(e.path)); prev[key] == nil {
			prev[key] = &entry{typ: e.typ, plain: e.plain, value: e.token}
		}
	}
	meta := o.Metadata()
	return sealDocument(doc, entries, &meta, o.dataKey, prev, now)
}

// Close forgets the data key.
func (o *Opened) Close() {
	clear(o.dataKey)
	o.dataKey = nil
}

// unwrapDataKey tries every source against every stanza.
func unwrapDataKey(ctx context.Context, stanzas []Stanza, sources []KeySource) ([]byte, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("%w: no key source given (an age identity, or access to the transit key)", ErrNoKey)
	}
	var errs []error
	for _, src := range sources {
		for _, st := range stanzas {
			key, err := src.Unwrap(ctx, st)
			if err == nil && len(key) == dataKeySize {
				return key, nil
			}
			if err == nil {
				clear(key)
				err = fmt.Errorf("%s: the unwrapped data key has the wrong length", st.describe())
			}
			if !errors.Is(err, errOtherType) {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		names := make([]string, len(stanzas))
		for i, st := range stanzas {
			names[i] = st.describe()
		}
		return nil, fmt.Errorf("%w: the file is sealed for %s, and no key source given handles these", ErrNoKey, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("%w: %w", ErrNoKey, errors.Join(dedupe(errs)...))
}

func dedupe(errs []error) []error {
	seen := map[string]bool{}
	var out []error
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}
