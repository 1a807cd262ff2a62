package report

import (
	"bytes"
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Live serves the report of a changing inventory. A background loop
// (Run) checks every Interval whether the data changed (a cheap version
// token) and only then rebuilds the page; requests are answered with the
// last page built, so that they never wait for a render and cost only a
// copy, whatever the inventory's size.
type Live struct {
	// Build returns the report data; Version a token that changes when the
	// data does.
	Build   func(context.Context) (*Data, error)
	Version func(context.Context) (string, error)
	// Options render the page; Options.Refresh is how often the browser
	// reloads it.
	Options Options
	// Interval is how often Run polls Version; 0 means 2 s. After a
	// rebuild Run waits at least ten times the rebuild's duration, so that a database written without pause costs at most
	// that share of a CPU.
	Interval time.Duration
	// OnError, when not nil, is told about failed rebuilds (the last good
	// page keeps being served).
	OnError func(error)

	mu      sync.RWMutex
	page    []byte
	gz      []byte // page, gzip-compressed once per build
	err     error
	version string
	ready   chan struct{}
	once    sync.Once
}

func (l *Live) init() { l.once.Do(func() { l.ready = make(chan struct{}) }) }

// Refresh rebuilds the page if the data changed since the last build, and
// reports whether it did.
func (l *Live) Refresh(ctx context.Context) (bool, error) {
	l.init()
	v, err := l.Version(ctx)
	if err == nil && v == l.current() {
		return false, nil
	}
	var buf, gz bytes.Buffer
	if err == nil {
		var d *Data
		if d, err = l.Build(ctx); err == nil {
			err = Render(&buf, d, l.Options)
		}
	}
	if err == nil {
		// The page is mostly repeated markup: compressed once here, it is
		// a tenth of the bytes to send on every request.
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		_, err = zw.Write(buf.Bytes())
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	first := l.page == nil && l.err == nil
	if err != nil {
		l.err = err
	} else {
		l.page, l.gz, l.err, l.version = buf.Bytes(), gz.Bytes(), nil, v
	}
	if first {
		close(l.ready)
	}
	return err == nil, err
}

func (l *Live) current() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.version
}

// maxDuty bounds the share of time Run spends rebuilding: after a rebuild
// that took d it waits at least d/maxDuty.
const maxDuty = 0.1

// Run refreshes the page until ctx is done.
func (l *Live) Run(ctx context.Context) {
	every := l.Interval
	if every <= 0 {
		every = 2 * time.Second
	}
	for {
		start := time.Now()
		rebuilt, err := l.Refresh(ctx)
		if err != nil && l.OnError != nil && ctx.Err() == nil {
			l.OnError(err)
		}
		wait := every
		if took := time.Since(start); rebuilt || err != nil {
			wait = max(wait, time.Duration(float64(took)/maxDuty))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// ServeHTTP answers GET / with the last page built (waiting for the first
// build), 503 when none could be built yet.
func (l *Live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.init()
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	select {
	case <-l.ready:
	case <-r.Context().Done():
		return
	}
	l.mu.RLock()
	page, gz, err := l.page, l.gz, l.err
	l.mu.RUnlock()
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
	if page == nil {
		http.Error(w, "report unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		page = gz
	}
	if err != nil {
		// The page is stale; say why in a header rather than in the page.
		h.Set("X-Specter-Stale", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	_, _ = w.Write(page)
}

// acceptsGzip reports whether an Accept-Encoding value accepts gzip (not
// with q=0).
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// RequireAuth wraps h so that it answers only requests with the token
// (Authorization: Bearer TOKEN, or ?token=TOKEN so that a browser's
// reloads keep it) or the basic-auth user and password; empty ones are not
// accepted. Comparisons are in constant time.
func RequireAuth(h http.Handler, token, user, password string) http.Handler {
	eq := func(a, b string) bool { return b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		if token != "" {
			got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			ok = eq(got, token) || eq(r.URL.Query().Get("token"), token)
		}
		if !ok && user != "" {
			u, p, has := r.BasicAuth()
			ok = has && eq(u, user) && eq(p, password)
		}
		if !ok {
			if user != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="specter", charset="UTF-8"`)
			}
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// IsLoopback reports whether a listen address (host:port) binds only the
// loopback interface: localhost or a loopback IP. An empty host binds
// every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
