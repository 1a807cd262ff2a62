package report

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLiveRebuildsOnChange(t *testing.T) {
	version, builds := "v1", 0
	var fail error
	l := &Live{
		Build: func(context.Context) (*Data, error) {
			builds++
			if fail != nil {
				return nil, fail
			}
			return Build(Input{Title: "build " + version}), nil
		},
		Version: func(context.Context) (string, error) { return version, nil },
	}
	get := func(ae string) (int, string, http.Header) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		l.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			body = string(b)
		}
		return rec.Code, body, rec.Header()
	}
	ctx := context.Background()
	steps := []struct {
		name       string
		do         func()
		rebuilt    bool
		wantBuilds int
		wantTitle  string
		stale      bool
	}{
		{"first", func() {}, true, 1, "build v1", false},
		{"unchanged", func() {}, false, 1, "build v1", false},
		{"changed", func() { version = "v2" }, true, 2, "build v2", false},
		{"failing build keeps the last page", func() { version, fail = "v3", errors.New("disk on fire") }, false, 3, "build v2", true},
		{"recovered", func() { fail = nil }, true, 4, "build v3", false},
	}
	for _, s := range steps {
		s.do()
		rebuilt, _ := l.Refresh(ctx)
		if rebuilt != s.rebuilt || builds != s.wantBuilds {
			t.Errorf("%s: rebuilt %v after %d builds, want %v after %d", s.name, rebuilt, builds, s.rebuilt, s.wantBuilds)
		}
		for _, ae := range []string{"", "gzip, deflate", "gzip;q=0"} {
			code, body, h := get(ae)
			if code != http.StatusOK || !strings.Contains(body, "<h1>"+s.wantTitle+"</h1>") {
				t.Errorf("%s (%q): status %d, page without %q", s.name, ae, code, s.wantTitle)
			}
			if (h.Get("X-Specter-Stale") != "") != s.stale {
				t.Errorf("%s: stale header %q", s.name, h.Get("X-Specter-Stale"))
			}
			if gz := h.Get("Content-Encoding") == "gzip"; gz != (ae == "gzip, deflate") {
				t.Errorf("%s (%q): Content-Encoding %q", s.name, ae, h.Get("Content-Encoding"))
			}
		}
	}
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestLiveFirstBuildFails(t *testing.T) {
	l := &Live{
		Build:   func(context.Context) (*Data, error) { return nil, errors.New("no such table") },
		Version: func(context.Context) (string, error) { return "x", nil },
	}
	if _, err := l.Refresh(context.Background()); err == nil {
		t.Fatal("no error")
	}
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "no such table") {
		t.Errorf("%d %q", rec.Code, rec.Body.String())
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:1": true, "[::1]:80": true, "localhost:9": true, "LOCALHOST:9": true,
		":8080": false, "0.0.0.0:80": false, "[::]:80": false, "10.0.0.1:80": false, "example.com:80": false,
		"127.0.0.1": false, "": false, "localhost.evil.test:80": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestRequireAuth(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, tc := range []struct {
		name              string
		token, user, pass string
		url               string
		hdr               string
		want              int
	}{
		{"token header", "t0k", "", "", "/", "Bearer t0k", http.StatusTeapot},
		{"token query", "t0k", "", "", "/?token=t0k", "", http.StatusTeapot},
		{"wrong token", "t0k", "", "", "/?token=t0", "Bearer t0", http.StatusUnauthorized},
		{"empty token never matches", "", "", "", "/?token=", "Bearer ", http.StatusUnauthorized},
		{"basic", "", "ann", "pw", "/", "Basic YW5uOnB3", http.StatusTeapot},
		{"basic with empty password given", "", "ann", "pw", "/", "Basic YW5uOg==", http.StatusUnauthorized},
		{"token does not open basic", "t0k", "ann", "pw", "/", "Basic YW5uOnQwaw==", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, tc.url, nil)
			if tc.hdr != "" {
				req.Header.Set("Authorization", tc.hdr)
			}
			RequireAuth(ok, tc.token, tc.user, tc.pass).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d", rec.Code, tc.want)
			}
		})
	}
}
