package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/logical"
)

// ErrNoDevice is returned when audit devices are enabled and none of them
// could record an entry; the request must then be refused.
var ErrNoDevice = errors.New("audit: no audit device could record the request")

// sinkTypes is the registry of device types: each builds a Sink from the
// device's options.
var sinkTypes = map[string]func(conf Config, allowedDir string) (Sink, error){
	"file":   newFileFromConfig,
	"socket": newSocketFromConfig,
	"syslog": newSyslogFromConfig,
}

// Types lists the supported device types.
func Types() []string {
	out := make([]string, 0, len(sinkTypes))
	for t := range sinkTypes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Open builds a device from its configuration. allowedDir bounds where a
// file device enabled through the API may write; devices declared in the
// server config (conf.Declared) may write anywhere.
func Open(conf Config, allowedDir string) (*Device, error) {
	mk, ok := sinkTypes[conf.Type]
	if !ok {
		return nil, fmt.Errorf("audit: unknown device type %q (supported: %s)", conf.Type, strings.Join(Types(), ", "))
	}
	sink, err := mk(conf, allowedDir)
	if err != nil {
		return nil, err
	}
	d, err := NewDevice(conf, sink)
	if err != nil {
		_ = sink.Close()
		return nil, err
	}
	return d, nil
}

func newFileFromConfig(conf Config, allowedDir string) (Sink, error) {
	path := conf.Options["file_path"]
	if path == "" {
		path = conf.Options["path"]
	}
	if path == "" {
		return nil, fmt.Errorf("audit: file_path is required for a file audit device")
	}
	mode, err := ParseMode(conf.Options["mode"])
	if err != nil {
		return nil, err
	}
	if path != "stdout" && path != "discard" && !conf.Declared {
		if err := checkInside(allowedDir, path, "file_path"); err != nil {
			return nil, err
		}
	}
	return NewFileSink(path, mode)
}

// checkInside refuses a path (option name) outside dir, following
// symlinks in its directories (a file itself is opened without following a
// symlink).
func checkInside(dir, path, name string) error {
	if dir == "" {
		return fmt.Errorf("audit: devices writing to a local %s can only be enabled through the API when the server config sets audit_dir (or declare the device in the config file)", name)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("audit: %s must be an absolute path below %s", name, dir)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("audit: audit_dir: %w", err)
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(filepath.Clean(path)))
	if err != nil {
		return fmt.Errorf("audit: the directory of %s must exist below %s", name, dir)
	}
	if parent != root && !strings.HasPrefix(parent, root+string(os.PathSeparator)) {
		return fmt.Errorf("audit: %s must be below the audit directory %s", name, dir)
	}
	return nil
}

// checkUnixSocket applies the audit_dir rule to a unix socket path chosen
// through the API: like a file, it names a place on the server's disk.
func checkUnixSocket(conf Config, allowedDir, network, address string) error {
	if conf.Declared || !strings.HasPrefix(network, "unix") {
		return nil
	}
	return checkInside(allowedDir, address, "address")
}

// Broker fans entries out to the enabled devices.
type Broker struct {
	logger *slog.Logger
	mu     sync.Mutex // serialises changes
	devs   atomic.Pointer[[]*Device]

	entries  *prometheus.CounterVec
	failures *prometheus.CounterVec
}

// NewBroker returns a broker with no devices.
func NewBroker(logger *slog.Logger) *Broker {
	if logger == nil {
		logger = slog.Default()
	}
	b := &Broker{
		logger: logger,
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_audit_entries_total", Help: "Audit entries recorded, by device and entry type.",
		}, []string{"device", "type"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_audit_failures_total", Help: "Audit entries a device failed to record.",
		}, []string{"device"}),
	}
	b.devs.Store(&[]*Device{})
	return b
}

// Describe and Collect make the broker a prometheus.Collector.
func (b *Broker) Describe(ch chan<- *prometheus.Desc) {
	b.entries.Describe(ch)
	b.failures.Describe(ch)
}

// Collect implements prometheus.Collector.
func (b *Broker) Collect(ch chan<- prometheus.Metric) { b.entries.Collect(ch); b.failures.Collect(ch) }

// Devices returns the enabled devices sorted by path.
func (b *Broker) Devices() []*Device { return *b.devs.Load() }

// Device returns the device at path, or nil.
func (b *Broker) Device(path string) *Device {
	for _, d := range b.Devices() {
		if d.conf.Path == path {
			return d
		}
	}
	return nil
}

// Enabled reports whether any device is enabled.
func (b *Broker) Enabled() bool { return len(b.Devices()) > 0 }

// Add enables d; a device at the same path is an error.
func (b *Broker) Add(d *Device) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.Devices()
	for _, x := range cur {
		if x.conf.Path == d.conf.Path {
			return fmt.Errorf("audit: path %q is already in use", d.conf.Path)
		}
	}
	d.entries = [2]prometheus.Counter{b.entries.WithLabelValues(d.conf.Path, "request"), b.entries.WithLabelValues(d.conf.Path, "response")}
	d.failures = b.failures.WithLabelValues(d.conf.Path)
	next := append(append([]*Device(nil), cur...), d)
	sort.Slice(next, func(i, j int) bool { return next[i].conf.Path < next[j].conf.Path })
	b.devs.Store(&next)
	return nil
}

// Remove disables and closes the device at path; it reports whether there
// was one.
func (b *Broker) Remove(path string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.Devices()
	next := make([]*Device, 0, len(cur))
	var gone *Device
	for _, x := range cur {
		if x.conf.Path == path {
			gone = x
			continue
		}
		next = append(next, x)
	}
	b.devs.Store(&next)
	if gone != nil {
		_ = gone.Close()
	}
	return gone != nil
}

// CloseAll disables every device.
func (b *Broker) CloseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.Devices() {
		_ = d.Close()
	}
	b.devs.Store(&[]*Device{})
}

// Reopen reopens every device's sink (SIGHUP: log rotation).
func (b *Broker) Reopen() error {
	var errs []error
	for _, d := range b.Devices() {
		if err := d.Reopen(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.conf.Path, err))
		}
	}
	return errors.Join(errs...)
}

// LogRequest records a request before it is served. The request entry of
// a read (read, list, help) is written together with its response entry
// by LogResponse instead: a read changes nothing and none of its data
// leaves the server unless both entries are recorded, so this keeps the
// fail-closed promise at half the writes.
func (b *Broker) LogRequest(ctx context.Context, in *Input) error {
	if len(b.Devices()) == 0 {
		return nil
	}
	switch in.Request.Operation {
	case logical.ReadOperation, logical.ListOperation, logical.HelpOperation:
		in.deferred = true
		return nil
	}
	return b.log(ctx, in, typesRequest)
}

// LogResponse records a request's outcome before it is answered.
func (b *Broker) LogResponse(ctx context.Context, in *Input) error {
	typs := typesResponse
	if in.deferred {
		typs = typesPair
	}
	in.deferred = false
	return b.log(ctx, in, typs)
}

var (
	typesRequest  = []string{"request"}
	typesResponse = []string{"response"}
	typesPair     = []string{"request", "response"}
)

func (b *Broker) log(ctx context.Context, in *Input, typs []string) error {
	devs := b.Devices()
	if len(devs) == 0 {
		return nil
	}
	ok := false
	for _, d := range devs {
		if err := d.log(ctx, in, typs...); err != nil {
			d.failures.Inc()
			b.logger.Error("audit device failed to record an entry", "device", d.conf.Path, "error", err)
			continue
		}
		for _, t := range typs {
			if t == "request" {
				d.entries[0].Inc()
			} else {
				d.entries[1].Inc()
			}
		}
		ok = true
	}
	if !ok {
		return ErrNoDevice
	}
	return nil
}
