package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/specter-dev/specter/infer/diff"
)

// speclessCapture writes a capture with a request-smuggling shape to
// shop.test, a path scan of scan.test and a GraphQL introspection query:
// findings that need no spec.
func speclessCapture(t *testing.T) string {
	t.Helper()
	smuggle := "POST /cart HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	pairs := [][2]string{
		{smuggle, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
		graphqlPair(`{ __schema { types { name } } }`, `{"data":{"__schema":{"types":[]}}}`),
	}
	for i := range 60 {
		word := "backup" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		pairs = append(pairs, [2]string{"GET /" + word + " HTTP/1.1\r\nHost: scan.test\r\n\r\n", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"})
	}
	pcap := filepath.Join(t.TempDir(), "specless.pcap")
	writeHTTPPcap(t, pcap, pairs)
	return pcap
}

// kindsOf returns "kind service" of each finding, sorted.
func kindsOf(t *testing.T, out string) []string {
	t.Helper()
	rep, err := diff.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, string(f.Kind)+" "+f.Service)
	}
	slices.Sort(got)
	return got
}

// TestDiffWithoutSpec: diff without any spec reports the anomalies, scans
// and introspection queries of the traffic instead of refusing, from a
// capture and from a database, and says on standard error that that is
// all it checked.
func TestDiffWithoutSpec(t *testing.T) {
	pcap := speclessCapture(t)
	db := filepath.Join(t.TempDir(), "specless.db")
	if _, errs, code := run(t, "analyze", "--db", db, pcap); code != exitOK {
		t.Fatalf("analyze --db: exit %d: %s", code, errs)
	}
	want := []string{"anomaly shop.test", "introspection shop.test", "scan scan.test"}
	for _, src := range [][]string{{pcap}, {"--db", db}} {
		args := append([]string{"diff", "--format", "json"}, src...)
		out, errs, code := run(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if got := kindsOf(t, out); !slices.Equal(got, want) {
			t.Errorf("%v: findings %q, want %q", args, got, want)
		}
		if !strings.Contains(errs, "reporting only wire anomalies") {
			t.Errorf("%v: stderr does not say what was checked: %s", args, errs)
		}
	}
	out, _, code := run(t, "diff", "--fail-on", "anomaly", pcap)
	if code != exitFindings || !strings.Contains(out, "ANOMALY (1)") || !strings.Contains(out, "content-length-with-transfer-encoding") {
		t.Errorf("diff --fail-on anomaly: exit %d\n%s", code, out)
	}
}

// TestDiffUnknownHost: a --host no service of the traffic or inventory
// has is an error naming it and the services seen, not "no findings"; a
// known one filters.
func TestDiffUnknownHost(t *testing.T) {
	pcap := speclessCapture(t)
	db := filepath.Join(t.TempDir(), "host.db")
	if _, errs, code := run(t, "analyze", "--db", db, pcap); code != exitOK {
		t.Fatalf("analyze --db: exit %d: %s", code, errs)
	}
	spec := filepath.Join(t.TempDir(), "shop.yaml")
	if err := os.WriteFile(spec, []byte("openapi: 3.0.3\ninfo: {title: shop, version: '1'}\nservers: [{url: 'http://shop.test'}]\npaths:\n  /cart:\n    post:\n      responses: {'200': {description: ok}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, src := range [][]string{{pcap}, {"--db", db}, {"--spec", spec, pcap}, {"--spec", spec, "--db", db}} {
		args := append([]string{"diff", "--host", "shop.tset"}, src...)
		out, errs, code := run(t, args...)
		if code != exitPartial || !strings.Contains(errs, `"shop.tset"`) || !strings.Contains(errs, "scan.test, shop.test") || strings.Contains(out, "no findings") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
		args = append([]string{"diff", "--host", "scan.test", "--format", "json"}, src...)
		out, errs, code = run(t, args...)
		if code != exitOK {
			t.Errorf("%v: exit %d: %s", args, code, errs)
			continue
		}
		for _, k := range kindsOf(t, out) {
			if !strings.HasSuffix(k, " scan.test") {
				t.Errorf("%v: finding %q of another service", args, k)
			}
		}
	}
}
