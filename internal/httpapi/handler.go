package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kinko-dev/kinko/internal/core"
)

// Options configure a Handler.
type Options struct {
	Logger *slog.Logger
	// MaxRequestSize bounds bodies; 0 means DefaultMaxRequestSize.
	MaxRequestSize int64
	// Limiter, when set, is used instead of one made from RateLimit.
	Limiter *IPLimiter
	// RateLimit is requests per second per client address; 0 disables.
	RateLimit float64
	RateBurst int
	// UI, when set, serves the web UI below /ui/.
	UI http.Handler
}

// Handler serves the Vault-compatible API.
type Handler struct {
	core    *core.Core
	logger  *slog.Logger
	limit   int64
	metrics *metrics
	limiter *IPLimiter
	mux     *http.ServeMux
}

// New returns the API handler for c.
func New(c *core.Core, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxRequestSize <= 0 {
		opts.MaxRequestSize = DefaultMaxRequestSize
	}
	h := &Handler{core: c, logger: opts.Logger, limit: opts.MaxRequestSize, metrics: newMetrics(c.Collectors()...)}
	if opts.Limiter != nil {
		h.limiter = opts.Limiter
	} else if opts.RateLimit > 0 {
		h.limiter = NewIPLimiter(opts.RateLimit, opts.RateBurst)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/sys/init", h.handleInit)
	mux.HandleFunc("/v1/sys/unseal", h.handleUnseal)
	mux.HandleFunc("/v1/sys/seal-status", h.handleSealStatus)
	mux.HandleFunc("/v1/sys/health", h.handleHealth)
	mux.HandleFunc("/v1/sys/leader", h.handleLeader)
	mux.HandleFunc("/v1/sys/metrics", h.handleMetrics)
	mux.HandleFunc("/v1/", h.handleLogical)
	if opts.UI != nil {
		mux.Handle("/ui/", opts.UI)
		mux.Handle("/{$}", http.RedirectHandler("/ui/", http.StatusTemporaryRedirect))
	}
	h.mux = mux
	return h
}

// ServeHTTP applies rate limiting and metrics around the routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if h.limiter != nil && !h.limiter.Allow(r.RemoteAddr) {
		w.Header().Set("Retry-After", "1")
		writeError(sw, http.StatusTooManyRequests, "rate limit exceeded: slow down and retry")
	} else if strings.HasPrefix(r.URL.Path, "/v1/") && strings.Contains(r.URL.Path, "//") {
		// ServeMux would redirect to the cleaned path; apiPath answers
		// instead (an OCSP GET's base64 may hold "//").
		h.handleLogical(sw, r)
	} else {
		h.mux.ServeHTTP(sw, r)
	}
	h.metrics.observe(r.Method, r.URL.Path, sw.status, time.Since(start))
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (h *Handler) handleLogical(w http.ResponseWriter, r *http.Request) {
	req, err := decodeRequest(r, h.limit)
	if err != nil {
		if errors.Is(err, errUnsupportedMedia) {
			writeError(w, http.StatusUnsupportedMediaType, err.Error())
			return
		}
		writeError(w, statusFor(err), messageFor(err))
		return
	}
	req.ID = requestID()
	resp, err := h.core.HandleRequest(r.Context(), req)
	h.respond(w, r, req, resp, err)
}

// sysRequest runs fn only for the listed methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "unsupported method "+r.Method)
	return false
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	status := statusFor(err)
	if status == http.StatusInternalServerError {
		h.logger.Error("request failed", "error", err)
	}
	writeError(w, status, messageFor(err))
}

// bodyData decodes the request body for the sys endpoints.
func (h *Handler) bodyData(r *http.Request) (map[string]any, error) {
	b, err := readBody(r, h.limit)
	if err != nil {
		return nil, err
	}
	return decodeBody(b)
}

var _ http.Handler = (*Handler)(nil)
