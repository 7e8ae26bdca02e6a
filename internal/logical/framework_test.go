package logical

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func testFramework() *Framework {
	echo := func(ctx context.Context, req *Request, d *FieldData) (*Response, error) {
		return DataResponse(map[string]any{"name": d.Get("name"), "op": string(req.Operation)}), nil
	}
	return (&Framework{PathList: []*Path{
		{
			Pattern: "items/" + GenericNameRegex("name"),
			Fields:  map[string]*FieldSchema{"name": {Type: TypeString}, "size": {Type: TypeInt}},
			Operations: map[Operation]OperationFunc{
				ReadOperation: echo, UpdateOperation: echo,
			},
			ExistenceCheck: func(ctx context.Context, req *Request, d *FieldData) (bool, error) {
				return d.Get("name") == "exists", nil
			},
			HelpSynopsis: "Manage items.",
		},
	}}).Compile()
}

func TestFrameworkRouting(t *testing.T) {
	f := testFramework()
	ctx := context.Background()
	cases := []struct {
		op      Operation
		path    string
		data    map[string]any
		wantErr error
		warn    bool
	}{
		{ReadOperation, "items/a.b-c", nil, nil, false},
		{CreateOperation, "items/x", nil, nil, false}, // falls back to update
		{UpdateOperation, "items/x", map[string]any{"size": 1, "bogus": 2}, nil, true},
		{UpdateOperation, "items/x", map[string]any{"size": "big"}, ErrInvalidRequest, false},
		{DeleteOperation, "items/x", nil, ErrUnsupportedOp, false},
		{ReadOperation, "nothing", nil, ErrUnsupportedPath, false},
		{ReadOperation, "items/-bad", nil, ErrUnsupportedPath, false},
	}
	for _, tc := range cases {
		resp, err := f.HandleRequest(ctx, &Request{Operation: tc.op, Path: tc.path, Data: tc.data})
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%s %s: err %v, want %v", tc.op, tc.path, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tc.op, tc.path, err)
			continue
		}
		if got := len(resp.Warnings) > 0; got != tc.warn {
			t.Errorf("%s %s: warnings %v", tc.op, tc.path, resp.Warnings)
		}
	}
	found, exists, err := f.HandleExistenceCheck(ctx, &Request{Path: "items/exists"})
	if !found || !exists || err != nil {
		t.Fatalf("existence check: %v %v %v", found, exists, err)
	}
	resp, _ := f.HandleRequest(ctx, &Request{Operation: HelpOperation, Path: "items/x"})
	if h, _ := resp.Data["help"].(string); !strings.Contains(h, "Manage items.") || !strings.Contains(h, "size (int)") {
		t.Fatalf("help: %q", h)
	}
}
