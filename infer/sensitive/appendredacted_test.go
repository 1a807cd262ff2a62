package sensitive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// wantAppendRedacted is what AppendRedactedJSON must return: for valid
// JSON, RedactJSON's output when it is valid JSON; nothing otherwise.
func wantAppendRedacted(body []byte, max int) ([]byte, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	out := RedactJSON(body, max)
	if !json.Valid(out) {
		return nil, false
	}
	return out, true
}

func checkAppendRedacted(t *testing.T, body []byte, max int) {
	t.Helper()
	want, wantOK := wantAppendRedacted(body, max)
	prefix := []byte("kept:")
	got, ok := AppendRedactedJSON(append([]byte(nil), prefix...), body, max)
	if ok != wantOK {
		t.Fatalf("max %d, body %.80q: ok %v, want %v (RedactJSON gives %.80q)", max, body, ok, wantOK, RedactJSON(body, max))
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("max %d: dst prefix lost: %.80q", max, got)
	}
	if got := got[len(prefix):]; !bytes.Equal(got, want) {
		t.Fatalf("max %d, body %.80q:\ngot  %.200q\nwant %.200q", max, body, got, want)
	}
}

func TestAppendRedactedJSON(t *testing.T) {
	doc := benchDoc()
	bodies := [][]byte{
		doc,
		[]byte(`{"email":"alice@example.com","password":"hunter22","n":[1,2,3]}`),
		[]byte(`  [ {"token":{"a":1}} , "x" ]  `),
		[]byte(`12345678901234567890`), // a top-level number: a cut one is still valid JSON
		[]byte(`"a long string value that is not sensitive at all"`),
		[]byte(`{"a":`), // invalid: not kept (RedactJSON would redact it as text)
		[]byte(`password=abc&x=y`),
		[]byte(`[1] x`), // invalid, though RedactJSON cut at 3 bytes is valid
		[]byte(`["4111 1111 1111 1111","8c7b1a52-6f37-4c38-9d6a-0e1f2a3b4c5d"]`),
		[]byte(`{"k":"v"}}`), // data after the value
		[]byte(`true`), []byte(`null`), []byte(``), []byte(`{}`),
	}
	for i, body := range bodies {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			// Every cap around the redacted size, and some far below it.
			full := len(RedactJSON(body, 1<<30))
			for max := -1; max <= full+2; max++ {
				if max > 40 && max < full-40 && max%97 != 0 {
					continue
				}
				checkAppendRedacted(t, body, max)
			}
		})
	}
}

// TestAppendRedactedJSONStopsEarly checks the point of AppendRedactedJSON:
// a document far larger than the cap is redacted no further than the cap,
// into dst without allocating.
func TestAppendRedactedJSONStopsEarly(t *testing.T) {
	doc := benchDoc()
	dst := make([]byte, 0, 8192)
	allocs := testing.AllocsPerRun(20, func() {
		if _, ok := AppendRedactedJSON(dst[:0], doc, 4096); ok {
			t.Fatal("a document larger than the cap fits")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per call, want 0", allocs)
	}
}

func FuzzAppendRedactedJSON(f *testing.F) {
	for _, s := range []string{
		`{"email":"alice@example.com","password":1,"a":[{"b":"4111 1111 1111 1111"}]}`,
		`{"e":"\u0040\ud83d\ude00"}`, `[1,2,"x"]`, `password=abc&x=y`, `12345678`,
		`{"token":{"a":1}}`, `{"a":`, `"\ud800"`, `[]`,
	} {
		for _, max := range []int{0, 5, 16, 64, 4096} {
			f.Add([]byte(s), max)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, max int) {
		checkAppendRedacted(t, body, max%(1<<16))
	})
}

func BenchmarkAppendRedactedJSON(b *testing.B) {
	doc := benchDoc()
	dst := make([]byte, 0, 8192)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for i := 0; i < b.N; i++ {
		AppendRedactedJSON(dst[:0], doc, 4096)
	}
}
