package core

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/barrier"
	"github.com/kinko-dev/kinko/internal/detect"
	"github.com/kinko-dev/kinko/internal/detect/alert"
	"github.com/kinko-dev/kinko/internal/logical"
)

// The detector lives while the server is unsealed: its rules and findings
// are kept below the barrier ("sys/detect/"), and so are the alert sinks'
// settings ("sys/alert-sinks/<name>"), secrets included. The dispatcher
// outlives seals so its metrics stay continuous.

// startDetector builds the detector and loads the alert sinks.
func (c *Core) startDetector(ctx, bg context.Context, st *unsealedState) error {
	d, err := detect.New(detect.Options{
		Storage: barrier.NewView(c.barrier, "sys/detect/"), Now: c.conf.Now, Logger: c.logger,
		Responder: responder{st}, Notify: c.alerts.Notify,
	})
	if err != nil {
		return fmt.Errorf("detector: %w", err)
	}
	st.detector, st.detectorImpl = d, d
	names, err := sinkView(c).List(ctx, "")
	if err != nil {
		return fmt.Errorf("alert sinks: %w", err)
	}
	for _, name := range names {
		var raw map[string]any
		if _, err := logical.GetJSON(ctx, sinkView(c), name, &raw); err != nil {
			return fmt.Errorf("alert sink %s: %w", name, err)
		}
		if _, err := c.setSink(raw); err != nil {
			c.logger.Error("alert sink could not be started", "sink", name, "error", err)
		}
	}
	d.Start(bg)
	return nil
}

func sinkView(c *Core) logical.Storage { return barrier.NewView(c.barrier, "sys/alert-sinks/") }

// setSink builds a sink from its stored settings and hands it to the
// dispatcher.
func (c *Core) setSink(raw map[string]any) (alert.Config, error) {
	cfg, err := alert.ParseConfig(raw)
	if err != nil {
		return cfg, err
	}
	s, err := alert.New(cfg, alert.WithLogger(c.logger))
	if err != nil {
		return cfg, err
	}
	return cfg, c.alerts.Set(s)
}

// responder carries out the detector's automatic responses.
type responder struct{ st *unsealedState }

func (r responder) RevokeAccessor(ctx context.Context, accessor string) error {
	return r.st.tokens.RevokeAccessor(ctx, accessor)
}

func (r responder) DisableEntity(ctx context.Context, id string) error {
	return r.st.identity.DisableEntity(ctx, id)
}

// detectCollector exposes the current detector's metrics (an unchecked
// collector: the detector is replaced at every unseal).
type detectCollector struct{ c *Core }

func (detectCollector) Describe(chan<- *prometheus.Desc) {}

func (d detectCollector) Collect(ch chan<- prometheus.Metric) {
	if st := d.c.state.Load(); st != nil && st.detectorImpl != nil {
		st.detectorImpl.Collect(ch)
	}
}

// Collectors returns the Prometheus collectors of the core's subsystems.
func (c *Core) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.audit, c.alerts, detectCollector{c}, c.denied, c.leaseRevocations, c.leaseGauge(), engineGauges{c}}
}

func (b *systemBackend) detectPaths(st *unsealedState) []*logical.Path {
	var paths []*logical.Path
	if st != nil && st.detectorImpl != nil {
		paths = append(paths, st.detectorImpl.Paths()...)
	}
	nameField := &logical.FieldSchema{Type: logical.TypeString, Description: "name of the alert sink"}
	fields := alert.Fields()
	fields["name"] = nameField
	return append(paths,
		&logical.Path{Pattern: "detect/sinks/?", Operations: ops(map[logical.Operation]logical.OperationFunc{
			logical.ListOperation: b.handleSinkList, logical.ReadOperation: b.handleSinkList}),
			HelpSynopsis: "List the alert sinks findings are sent to."},
		&logical.Path{Pattern: "detect/sinks/" + logical.GenericNameRegex("name") + "/test",
			Fields:       map[string]*logical.FieldSchema{"name": nameField},
			Operations:   ops(map[logical.Operation]logical.OperationFunc{logical.UpdateOperation: b.handleSinkTest}),
			HelpSynopsis: "Send a test finding through an alert sink and report the outcome."},
		&logical.Path{Pattern: "detect/sinks/" + logical.GenericNameRegex("name"), Fields: fields,
			Operations: ops(map[logical.Operation]logical.OperationFunc{
				logical.ReadOperation: b.handleSinkRead, logical.UpdateOperation: b.handleSinkWrite,
				logical.DeleteOperation: b.handleSinkDelete}),
			HelpSynopsis: "Configure an alert sink: webhook, smtp or log."},
	)
}

func (b *systemBackend) handleSinkList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	keys, err := sinkView(b.c).List(ctx, "")
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func (b *systemBackend) sinkConfig(ctx context.Context, name string) (map[string]any, alert.Config, error) {
	var raw map[string]any
	ok, err := logical.GetJSON(ctx, sinkView(b.c), name, &raw)
	if err != nil {
		return nil, alert.Config{}, err
	}
	if !ok {
		return nil, alert.Config{}, logical.Errorf(logical.ErrNotFound, "no alert sink named %q", name)
	}
	cfg, err := alert.ParseConfig(raw)
	return raw, cfg, err
}

func (b *systemBackend) handleSinkRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	_, cfg, err := b.sinkConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	data := cfg.Public()
	if s, ok := b.c.alerts.Stat(name); ok {
		data["sent"], data["failed"], data["dropped"], data["queued"] = s.Sent, s.Failed, s.Dropped, s.Queued
	}
	return logical.DataResponse(data), nil
}

func (b *systemBackend) handleSinkWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	raw := make(map[string]any, len(req.Data)+1)
	for k, v := range req.Data {
		raw[k] = v
	}
	raw["name"] = d.Get("name").(string)
	cfg, err := alert.ParseConfig(raw)
	if err != nil {
		return nil, err
	}
	if _, err := alert.New(cfg, alert.WithLogger(b.c.logger)); err != nil {
		return nil, err
	}
	if err := logical.PutJSON(ctx, sinkView(b.c), cfg.Name, raw); err != nil {
		return nil, err
	}
	_, err = b.c.setSink(raw)
	return nil, err
}

func (b *systemBackend) handleSinkDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.Get("name").(string)
	if err := sinkView(b.c).Delete(ctx, name); err != nil {
		return nil, err
	}
	b.c.alerts.Remove(name)
	return nil, nil
}

// handleSinkTest sends a synthetic finding through the sink, synchronously.
func (b *systemBackend) handleSinkTest(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	_, cfg, err := b.sinkConfig(ctx, d.Get("name").(string))
	if err != nil {
		return nil, err
	}
	s, err := alert.New(cfg, alert.WithLogger(b.c.logger))
	if err != nil {
		return nil, err
	}
	f := detect.Finding{ID: "test-" + req.ID, Rule: "test", Severity: detect.SeverityLow, Time: b.c.conf.Now().UTC(),
		Summary: "test finding sent with sys/detect/sinks/" + cfg.Name + "/test", Evidence: []string{req.ID}}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.Send(tctx, f); err != nil {
		return nil, logical.InvalidRequest("the test finding could not be delivered: %v", err)
	}
	return logical.DataResponse(map[string]any{"delivered": true, "finding_id": f.ID}), nil
}
