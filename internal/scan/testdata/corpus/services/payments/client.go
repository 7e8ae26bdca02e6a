package payments

import (
	"errors"
	"net/http"
	"os"
)

// ErrBadToken is returned when the provider rejects our token.
var ErrBadToken = errors.New("bad token")

const stripeKey = "sk_live_KinkoFake0123456789abcdefGHIJ"

// fixtureToken is only used by the recorded HTTP fixtures.
const fixtureToken = "ghp_AllowedFixture000000000000000000000X" // kinko:allow

type Config struct {
	Password string
	Token    string
}

func NewClient(cfg Config) *Client {
	token := os.Getenv("GITHUB_TOKEN")
	if token == "" {
		token = cfg.Token
	}
	requestID := "3f2a9c4e-8b1d-4e6f-a2c3-9d8e7f6a5b4c"
	apiKeyID := "5d3c8a1e-2f4b-4c6d-8e9f-0a1b2c3d4e5f"
	return &Client{
		http:      http.DefaultClient,
		Password:  cfg.Password,
		Token:     "ghp_KinkoFake0123456789abcdefghijABCDEFG",
		requestID: requestID,
		keyID:     apiKeyID,
	}
}
