package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

const demo = "../../testdata/demo.pcap"

func TestAnalyzeJSON(t *testing.T) {
	out, errs, code := run(t, "analyze", "--json", demo)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if s.Reassembly.Exchanges == 0 || s.Reassembly.Exchanges != s.Reassembly.Requests || s.Packets == 0 {
		t.Errorf("summary: %+v", s)
	}
	if s.Reassembly.UnmatchedRequests+s.Reassembly.UnmatchedResponses != 0 {
		t.Errorf("unmatched exchanges in a clean capture: %+v", s.Reassembly)
	}
}

func TestAnalyzeTable(t *testing.T) {
	out, _, code := run(t, "analyze", demo)
	if code != exitOK || !strings.Contains(out, "exchanges") || !strings.Contains(out, "MB/s") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.pcap")
	if err := os.WriteFile(truncated, data[:len(data)/2+7], 0o644); err != nil {
		t.Fatal(err)
	}
	// The same capture with a link type no decoder reads (USER0).
	user0 := slices.Clone(data)
	binary.LittleEndian.PutUint32(user0[20:], 147)
	unknownLink := filepath.Join(dir, "user0.pcap")
	if err := os.WriteFile(unknownLink, user0, 0o644); err != nil {
		t.Fatal(err)
	}
	notCapture := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notCapture, []byte("hello, not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		errHint string
	}{
		{"ok", []string{"analyze", demo}, exitOK, ""},
		{"no args", []string{"analyze"}, exitFatal, "no input"},
		{"missing file", []string{"analyze", filepath.Join(dir, "nope.pcap")}, exitFatal, "nope.pcap"},
		{"not a capture", []string{"analyze", notCapture}, exitFatal, "notes.txt"},
		{"truncated", []string{"analyze", truncated}, exitPartial, "truncated.pcap: offset"},
		{"one bad among good", []string{"analyze", demo, notCapture}, exitPartial, "notes.txt"},
		{"unknown link type", []string{"analyze", unknownLink}, exitFatal, "user0.pcap: link type 147"},
		{"unknown link type among good", []string{"analyze", demo, unknownLink}, exitPartial, "user0.pcap: link type 147"},
		{"unknown link type, export", []string{"export", unknownLink}, exitFatal, "user0.pcap: link type 147"},
		{"bad format", []string{"exchanges", "--format", "xml", demo}, exitFatal, "unknown --format"},
		{"unknown verb", []string{"frobnicate"}, exitFatal, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errs)
			}
			if tt.errHint != "" && !strings.Contains(errs+out, tt.errHint) {
				t.Errorf("output does not mention %q:\nstdout: %s\nstderr: %s", tt.errHint, out, errs)
			}
		})
	}
}

func TestExchangesJSONL(t *testing.T) {
	out, errs, code := run(t, "exchanges", demo)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 100 {
		t.Fatalf("only %d exchanges", len(lines))
	}
	for _, l := range lines {
		var x struct {
			Client  string `json:"client"`
			Request struct {
				Method string `json:"method"`
				Path   string `json:"path"`
				Host   string `json:"host"`
			} `json:"request"`
			Response struct {
				Status int `json:"status"`
			} `json:"response"`
		}
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		if x.Request.Method == "" || x.Response.Status == 0 || !strings.HasPrefix(x.Request.Path, "/") {
			t.Fatalf("incomplete exchange: %s", l)
		}
	}
	// The same input gives the same bytes.
	again, _, _ := run(t, "exchanges", "--workers", "1", demo)
	if again != out {
		t.Error("output differs between runs (and worker counts)")
	}
}

func TestExchangesHAR(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.har")
	_, errs, code := run(t, "exchanges", "--format", "har", "-o", path, demo)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Log struct {
			Version string `json:"version"`
			Entries []struct {
				StartedDateTime string `json:"startedDateTime"`
				Request         struct {
					Method string `json:"method"`
					URL    string `json:"url"`
				} `json:"request"`
				Response struct {
					Status  int `json:"status"`
					Content struct {
						MimeType string `json:"mimeType"`
						Text     string `json:"text"`
					} `json:"content"`
				} `json:"response"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatalf("HAR is not valid JSON: %v", err)
	}
	if h.Log.Version != "1.2" || len(h.Log.Entries) < 100 {
		t.Fatalf("HAR version %q with %d entries", h.Log.Version, len(h.Log.Entries))
	}
	for _, e := range h.Log.Entries {
		// The demo's API, and the path scan of another service at its end.
		if !strings.HasPrefix(e.Request.URL, "http://shop.example.test/") && !strings.HasPrefix(e.Request.URL, "http://files.example.test/") || e.Response.Status == 0 || e.StartedDateTime == "" {
			t.Fatalf("bad entry %+v", e)
		}
		if e.Response.Content.MimeType == "application/json" && e.Response.Status != 204 && !json.Valid([]byte(e.Response.Content.Text)) {
			t.Fatalf("JSON body not decoded: %q", e.Response.Content.Text)
		}
	}
}

func TestStdin(t *testing.T) {
	f, err := os.Open(demo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb bytes.Buffer
	code := execute(context.Background(), []string{"analyze", "--json", "-"}, f, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"exchanges": `) {
		t.Fatalf("no summary: %s", out.String())
	}
}
