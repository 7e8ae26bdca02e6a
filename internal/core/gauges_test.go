package core

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinko-dev/kinko/internal/logical"
	"github.com/kinko-dev/kinko/internal/storage/inmem"
)

// gaugeEngine is a backend reporting one gauge.
type gaugeEngine struct {
	logical.Backend
	value float64
}

func (g *gaugeEngine) Gauges() []logical.Gauge {
	return []logical.Gauge{{Name: "kinko_test_things", Help: "Things held.", Labels: map[string]string{"kind": "a"}, Value: g.value}}
}

func TestEngineGaugesAreCollectedPerMount(t *testing.T) {
	n := 0.0
	factory := func(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
		n++
		return &gaugeEngine{Backend: &logical.Framework{}, value: n * 10}, nil
	}
	c, err := New(Config{Physical: inmem.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		LogicalBackends: map[string]logical.Factory{"gauges": factory}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown(context.Background()) })
	reg := prometheus.NewRegistry()
	reg.MustRegister(engineGauges{c})
	if got := gatherGauges(t, reg); len(got) != 0 {
		t.Fatalf("sealed: %v", got)
	}
	res, err := c.Init(context.Background(), SealConfig{SecretShares: 1, SecretThreshold: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unseal(context.Background(), res.Keys[0]); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"one", "two"} {
		if _, err := c.HandleRequest(context.Background(), &logical.Request{ID: "m-" + p, Operation: logical.UpdateOperation,
			Path: "sys/mounts/" + p, ClientToken: res.RootToken, Data: map[string]any{"type": "gauges"}}); err != nil {
			t.Fatal(err)
		}
	}
	got := gatherGauges(t, reg)
	want := []string{`kinko_test_things{kind="a",mount="one/"} 10`, `kinko_test_things{kind="a",mount="two/"} 20`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("gauges:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// gatherGauges renders the registry's gauges as sorted name{labels} value lines.
func gatherGauges(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"=\""+l.GetValue()+"\"")
			}
			out = append(out, mf.GetName()+"{"+strings.Join(labels, ",")+"} "+strconv.FormatFloat(m.GetGauge().GetValue(), 'f', -1, 64))
		}
	}
	sort.Strings(out)
	return out
}
