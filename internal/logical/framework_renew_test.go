package logical

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFrameworkAuthRenew(t *testing.T) {
	renew := func(ctx context.Context, req *Request, d *FieldData) (*Response, error) {
		if d == nil || d.Raw == nil {
			return nil, errors.New("nil field data")
		}
		a := *req.Auth
		a.TTL = time.Minute
		return &Response{Auth: &a}, nil
	}
	withRenew := testFramework()
	withRenew.AuthRenew = renew
	cases := []struct {
		name    string
		f       *Framework
		req     *Request
		wantErr error
		wantTTL time.Duration
	}{
		{"routed to AuthRenew", withRenew, &Request{Operation: RenewOperation, Auth: &Auth{}}, nil, time.Minute},
		{"no AuthRenew", testFramework(), &Request{Operation: RenewOperation, Auth: &Auth{}}, ErrInvalidRequest, 0},
		{"renew of a path is routed", withRenew, &Request{Operation: RenewOperation, Path: "items/x", Auth: &Auth{}}, ErrUnsupportedOp, 0},
		{"lease renewal is not an auth renewal", withRenew, &Request{Operation: RenewOperation, Auth: &Auth{}, Secret: &Secret{}}, ErrUnsupportedPath, 0},
		{"no auth", withRenew, &Request{Operation: RenewOperation}, ErrUnsupportedPath, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.f.HandleRequest(context.Background(), tc.req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || resp == nil || resp.Auth == nil || resp.Auth.TTL != tc.wantTTL {
				t.Fatalf("resp %+v err %v", resp, err)
			}
		})
	}
}
