package audit

import (
	"context"
	"errors"

	"crypto/rand"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"strconv"
	"sync"
)

// Sink is where a device's lines go. Write gets one complete line without
// its newline and must either record it or return an error.
type Sink interface {
	Write(ctx context.Context, line []byte) error
	// Reopen re-establishes the sink (file rotation on SIGHUP, a new
	// socket connection).
	Reopen() error
	Close() error
}

// BatchWriter is an optional Sink capability: WriteBatch records several
// complete lines, each ending in a newline, at once (one write to a file),
// all or none.
type BatchWriter interface {
	WriteBatch(ctx context.Context, lines []byte) error
}

// Tailer is an optional Sink capability: LastLines returns the last two
// lines already recorded (nil when absent) so the chain can continue them.
type Tailer interface {
	LastLines() (before, last []byte, err error)
}

// Config describes one audit device, as kept in the audit table.
type Config struct {
	Path        string            `json:"path"`
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Options     map[string]string `json:"options"`
	Local       bool              `json:"local"`
	// Salt keys the HMAC of sensitive values; ChainKey keys the hash chain.
	Salt     []byte `json:"salt"`
	ChainKey []byte `json:"chain_key"`
	// Declared marks a device from the server config file (not removable
	// through the API; its keys are kept in the audit table).
	Declared bool `json:"declared,omitempty"`
}

// NewKeys fills in a fresh salt and chain key from crypto/rand.
func (c *Config) NewKeys() error {
	c.Salt, c.ChainKey = make([]byte, 32), make([]byte, 32)
	if _, err := rand.Read(c.Salt); err != nil {
		return err
	}
	_, err := rand.Read(c.ChainKey)
	return err
}

// Device is one enabled audit device.
type Device struct {
	conf   Config
	fmt    formatter
	salted hasher
	sink   Sink

	// Concurrent entries are group-committed (see log).
	qmu    sync.Mutex
	queue  []*pending
	closed bool
	spare  []*pending // the last batch's slice, reused by the writer

	wake          chan struct{} // capacity 1: entries are queued
	stop, stopped chan struct{}

	// counters of the broker's metrics for this device
	entries  [2]prometheus.Counter // request, response
	failures prometheus.Counter

	mu    sync.Mutex // guards chain, sink and wbuf
	chain chain
	wbuf  []byte
}

// pending is one entry (or a request and response pair) waiting to be
// written. Pending values are pooled.
type pending struct {
	body [2][]byte
	n    int
	err  error
	done chan struct{} // signalled once written (or failed)
}

// NewDevice builds a device over sink. The sink's existing last line, if
// it has one, is continued by the chain.
func NewDevice(conf Config, sink Sink) (*Device, error) {
	raw, err := boolOption(conf.Options, "log_raw", false)
	if err != nil {
		return nil, err
	}
	hmacAcc, err := boolOption(conf.Options, "hmac_accessor", true)
	if err != nil {
		return nil, err
	}
	if len(conf.Salt) == 0 || len(conf.ChainKey) == 0 {
		return nil, fmt.Errorf("audit: device %q has no keys", conf.Path)
	}
	d := newDeviceState(conf, sink)
	d.salted = newHasher(conf.Salt)
	d.fmt = formatter{h: d.salted, hmacAccessor: hmacAcc}
	if raw {
		d.fmt.h = hasher{}
	}
	if t, ok := sink.(Tailer); ok {
		before, last, err := t.LastLines()
		if err != nil {
			return nil, err
		}
		if len(last) > 0 {
			if err := d.chain.resume(before, last); err != nil {
				return nil, fmt.Errorf("%w (file audit devices need a file of their own)", err)
			}
		}
	}
	d.start()
	return d, nil
}

func boolOption(opts map[string]string, name string, def bool) (bool, error) {
	v, ok := opts[name]
	if !ok || v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("audit: option %s must be true or false, not %q", name, v)
	}
	return b, nil
}

// Config returns the device's configuration.
func (d *Device) Config() Config { return d.conf }

// Hash returns the HMAC of s as this device writes it (sys/audit-hash).
func (d *Device) Hash(s string) string { return d.salted.hash(s) }

// Head returns the device's chain position.
func (d *Device) Head() Head {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.chain.head()
}

func newDeviceState(conf Config, sink Sink) *Device {
	return &Device{conf: conf, sink: sink, chain: chain{key: conf.ChainKey, mac: newHasher(conf.ChainKey)},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// errClosed is returned for entries sent to a device being closed.
var errClosed = errors.New("audit: the device is closed")

// log formats in as the entries typs (one, or a request and its response
// together) and waits until the device's writer has written them, chained
// and consecutive.
func (d *Device) log(ctx context.Context, in *Input, typs ...string) error {
	p := pendingPool.Get().(*pending)
	p.n = len(typs)
	for i, typ := range typs {
		p.body[i] = d.fmt.format(d, typ, in, p.body[i][:0])
	}
	d.qmu.Lock()
	if d.closed {
		d.qmu.Unlock()
		pendingPool.Put(p)
		return errClosed
	}
	d.queue = append(d.queue, p)
	first := len(d.queue) == 1
	d.qmu.Unlock()
	if first {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
	<-p.done
	err := p.err
	p.err = nil
	pendingPool.Put(p)
	return err
}

// start runs the device's writer: it takes every entry queued since its
// last write and writes them in one batch (group commit), so a loaded
// server makes one write per batch and wakes each waiting request once.
func (d *Device) start() {
	go func() {
		defer close(d.stopped)
		for {
			select {
			case <-d.wake:
				d.writeQueued()
			case <-d.stop:
				d.writeQueued()
				return
			}
		}
	}()
}

func (d *Device) writeQueued() {
	for {
		d.qmu.Lock()
		batch := d.queue
		if len(batch) == 0 {
			d.qmu.Unlock()
			return
		}
		d.queue, d.spare = d.spare[:0], nil
		d.qmu.Unlock()
		d.mu.Lock()
		d.flush(context.Background(), batch)
		d.mu.Unlock()
		for i, p := range batch {
			batch[i] = nil
			p.done <- struct{}{}
		}
		d.spare = batch[:0]
	}
}

// flush chains and writes a batch of entries, setting each one's error.
// The caller holds mu.
func (d *Device) flush(ctx context.Context, batch []*pending) {
	if bw, ok := d.sink.(BatchWriter); ok {
		saved := d.chain
		buf := d.wbuf[:0]
		for _, p := range batch {
			for i := 0; i < p.n; i++ {
				p.body[i] = d.chain.link(p.body[i])
				d.chain.advance(p.body[i])
				buf = append(append(buf, p.body[i]...), '\n')
			}
		}
		d.wbuf = buf
		err := bw.WriteBatch(ctx, buf)
		if err != nil {
			d.chain = saved
		}
		for _, p := range batch {
			p.err = err
		}
		return
	}
	for _, p := range batch {
		for i := 0; i < p.n && p.err == nil; i++ {
			p.body[i] = d.chain.link(p.body[i])
			if p.err = d.sink.Write(ctx, p.body[i]); p.err == nil {
				d.chain.advance(p.body[i])
			}
		}
	}
}

var pendingPool = sync.Pool{New: func() any {
	return &pending{done: make(chan struct{}, 1), body: [2][]byte{make([]byte, 0, 2048), make([]byte, 0, 2048)}}
}}

// Reopen reopens the device's sink.
func (d *Device) Reopen() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sink.Reopen()
}

// Close closes the device's sink.
func (d *Device) Close() error {
	d.qmu.Lock()
	already := d.closed
	d.closed = true
	d.qmu.Unlock()
	if !already && d.stop != nil {
		close(d.stop)
		<-d.stopped
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sink.Close()
}

// Broken returns a device for a config whose sink could not be opened: it
// fails every write until its sink can be built, so a device that cannot
// record never lets requests through unaudited, and it recovers by itself.
// Its chain starts afresh (seq 1) when it recovers.
func Broken(conf Config, cause error, allowedDir string) *Device {
	d, err := NewDevice(conf, &retrySink{conf: conf, dir: allowedDir, err: cause})
	if err != nil {
		d = newDeviceState(conf, &retrySink{conf: conf, dir: allowedDir, err: err})
		d.salted = newHasher(conf.Salt)
		d.fmt = formatter{h: d.salted, hmacAccessor: true}
		d.start()
	}
	return d
}

// retrySink builds its real sink on the first write that can.
type retrySink struct {
	conf  Config
	dir   string
	err   error
	inner Sink
}

func (r *retrySink) Write(ctx context.Context, line []byte) error {
	if r.inner == nil {
		if err := r.Reopen(); err != nil {
			return err
		}
	}
	return r.inner.Write(ctx, line)
}

func (r *retrySink) Reopen() error {
	if r.inner != nil {
		return r.inner.Reopen()
	}
	mk, ok := sinkTypes[r.conf.Type]
	if !ok {
		return r.err
	}
	s, err := mk(r.conf, r.dir)
	if err != nil {
		r.err = err
		return err
	}
	r.inner = s
	return nil
}

func (r *retrySink) Close() error {
	if r.inner == nil {
		return nil
	}
	return r.inner.Close()
}
