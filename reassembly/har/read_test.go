package har

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sample = `{"log":{"version":"1.2","entries":[
 {"startedDateTime":"2026-11-21T01:10:07.835Z","time":646,"serverIPAddress":"127.0.0.1",
  "request":{"method":"POST","url":"http://api.test:8080/v1/users/42?x=1&y=%20","httpVersion":"HTTP/1.1",
   "headers":[{"name":"host","value":"api.test"},{"name":"authorization","value":"Bearer t"}],
   "postData":{"mimeType":"application/json","text":"{\"a\":1}"}},
  "response":{"status":201,"statusText":"Created","httpVersion":"HTTP/1.1",
   "headers":[{"name":"Content-Type","value":"application/json"}],
   "content":{"size":2,"mimeType":"application/json","text":"e30=","encoding":"base64"}}},
 {"startedDateTime":"bad","time":0,"request":{"method":"GET","url":"https://other.test/","headers":[]},
  "response":{"status":0,"content":{}}},
 {"startedDateTime":"","time":0,"request":{"method":"GET","url":"http://[::1","headers":[]},"response":{"status":200,"content":{}}}
]}}`

func TestRead(t *testing.T) {
	xs, err := Read(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 2 {
		t.Fatalf("got %d exchanges, want 2 (the bad URL skipped)", len(xs))
	}
	x := xs[0]
	r := x.Request
	if r.Method != "POST" || r.Path != "/v1/users/42" || r.RawQuery != "x=1&y=%20" || r.Authority != "api.test" {
		t.Errorf("request %+v", r)
	}
	if string(r.Body.Bytes()) != `{"a":1}` || r.Header.Get("Authorization") != "Bearer t" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request body/headers: %q %v", r.Body.Bytes(), r.Header)
	}
	if x.Response == nil || x.Response.StatusCode != 201 || string(x.Response.Body.Bytes()) != "{}" {
		t.Fatalf("response %+v", x.Response)
	}
	if got := x.Response.End.Sub(r.Start); got != 646*time.Millisecond {
		t.Errorf("latency %v", got)
	}
	if x.Flow.Server.String() != "127.0.0.1:8080" {
		t.Errorf("server %v", x.Flow.Server)
	}
	y := xs[1]
	if y.Response != nil || y.Request.Authority != "other.test" || y.Request.Path != "/" {
		t.Errorf("second exchange %+v %+v", y.Request, y.Response)
	}
	if _, err := Read(strings.NewReader("not json")); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := ReadFile("/nonexistent.har"); err == nil {
		t.Error("missing file accepted")
	}
}

// TestReadFileGzip: a gzip-compressed HAR reads like the plain one, and a
// truncated gzip stream is an error naming the file.
func TestReadFileGzip(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(sample)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "a.har")
	gz := filepath.Join(dir, "a.har.gz")
	cut := filepath.Join(dir, "cut.har.gz")
	for p, b := range map[string][]byte{plain: []byte(sample), gz: buf.Bytes(), cut: buf.Bytes()[:buf.Len()/2]} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(gz)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got[0].Request.Path != want[0].Request.Path {
		t.Errorf("gzip read %d exchanges, plain %d", len(got), len(want))
	}
	if _, err := ReadFile(cut); err == nil || !strings.Contains(err.Error(), cut) {
		t.Errorf("truncated gzip: err = %v, want an error naming the file", err)
	}
}
