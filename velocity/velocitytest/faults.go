package velocitytest

import (
	"bytes"
	"cmp"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// FaultKind is a kind of injected failure.
type FaultKind int

// Fault kinds.
const (
	// FaultRateLimit answers 429 with Retry-After: RetryAfter seconds.
	FaultRateLimit FaultKind = iota + 1
	// FaultUnavailable answers 503, with Retry-After when RetryAfter > 0.
	FaultUnavailable
	// FaultHTML answers Status (default 500) with an HTML page, as a proxy
	// in front of Velocity would.
	FaultHTML
	// FaultTruncated serves the real answer with Status (default: the real
	// status) but only the first half of its JSON body.
	FaultTruncated
	// FaultLatency holds the request until Release is closed (or the
	// client gives up), then serves it normally. It never sleeps.
	FaultLatency
	// FaultStatus answers Status with the contract's error body.
	FaultStatus
)

// Fault is a failure injected into the next Count matching requests.
type Fault struct {
	Kind FaultKind
	// Path restricts the fault to request paths with this prefix ("" for
	// any), e.g. "/v1/orders".
	Path string
	// Count is how many requests fail (default 1).
	Count int
	// RetryAfter is the Retry-After value in seconds for 429 and 503.
	RetryAfter int
	// Status overrides the status code (FaultHTML, FaultTruncated,
	// FaultStatus).
	Status int
	// Release, for FaultLatency, is closed by the test to let held
	// requests through.
	Release <-chan struct{}
	// Held, for FaultLatency, if not nil, receives a value (without
	// blocking) when a request starts being held, so a test can act then.
	Held chan<- struct{}
}

// InjectFault queues f. Faults apply in the order they were injected,
// before authentication, as a load balancer's would.
func (s *Server) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// PendingFaults reports how many injected failures have not fired yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.Count
	}
	return n
}

// takeFault consumes one use of the first fault matching path. s.mu held.
func (s *Server) takeFault(path string) *Fault {
	for i, f := range s.faults {
		if !strings.HasPrefix(path, f.Path) {
			continue
		}
		f.Count--
		if f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		c := *f
		return &c
	}
	return nil
}

// applyFault writes the fault's answer. It returns false when the request
// should go on to the normal handler (latency).
func (s *Server) applyFault(f *Fault, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	switch f.Kind {
	case FaultRateLimit:
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
	case FaultUnavailable:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		writeError(w, http.StatusServiceUnavailable, "unavailable", "service unavailable")
	case FaultHTML:
		status := cmp.Or(f.Status, http.StatusInternalServerError)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>\n") //nolint:errcheck
	case FaultTruncated:
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		if s.authorized(r) {
			next.ServeHTTP(rec, r)
		} else {
			writeError(rec, http.StatusUnauthorized, "unauthorized", "invalid or missing api token")
		}
		body := rec.body.Bytes()
		body = body[:len(body)/2]
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		// An honest Content-Length: the body is complete as sent, so the
		// client sees a short JSON document, not a broken connection.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(cmp.Or(f.Status, rec.status))
		w.Write(body) //nolint:errcheck
	case FaultLatency:
		if f.Held != nil {
			select {
			case f.Held <- struct{}{}:
			default:
			}
		}
		select {
		case <-f.Release:
		case <-r.Context().Done():
			return true
		}
		return false
	case FaultStatus:
		writeError(w, cmp.Or(f.Status, http.StatusInternalServerError), "injected", "injected failure")
	default:
		return false
	}
	return true
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

type readCloser struct{ io.Reader }

func (readCloser) Close() error { return nil }

func readAllLimit(r *http.Request, n int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, n))
}
