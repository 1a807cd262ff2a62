package reassembly_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// Bodies reach the sinks undecoded: nothing is inflated until a sink
// reads a body, and what decoding finds then (a body cut at MaxBody by
// decoding, a bad coding) shows in AllFlags, the JSON form and Stats as
// eager decoding showed it.
func TestLazyBodies(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	for i := range 2000 {
		fmt.Fprintf(zw, `{"id":%d,"v":"%x"}`, i, i*7919)
	}
	zw.Close()
	tests := []struct {
		name      string
		body      string
		read      bool
		wantFlags []string // of the exchange, in its JSON form
		stat      func(reassembly.Stats) uint64
		want      uint64
	}{
		{"never read: never decoded", z.String(), false, nil, func(s reassembly.Stats) uint64 { return s.Decoded }, 0},
		{"decoded past MaxBody when read", z.String(), true, []string{"truncated"}, func(s reassembly.Stats) uint64 { return s.Truncated }, 1},
		{"a bad coding when read", "not gzip", true, nil, func(s reassembly.Stats) uint64 { return s.DecodeErrors }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := reassembly.DefaultConfig()
			cfg.Workers = 1
			cfg.HTTP.MaxBody = z.Len() + 100 // the body fits on the wire, not decoded
			w, xs := newWire(t, cfg)
			c := w.conn(40000)
			c.handshake(0)
			c.send(time.Millisecond, true, get("/z"))
			c.send(time.Millisecond, false, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(tt.body), tt.body))
			c.close(time.Millisecond)
			w.p.Close()
			if len(*xs) != 1 {
				t.Fatalf("%d exchanges", len(*xs))
			}
			x := (*xs)[0]
			if x.Flags.Has(reassembly.FlagTruncated) {
				t.Errorf("flagged truncated before any read")
			}
			if st := w.p.Stats(); st.Decoded != 0 {
				t.Fatalf("decoded before any read: %+v", st)
			}
			if tt.read {
				var j struct {
					Flags []string `json:"flags"`
				}
				b, err := json.Marshal(x)
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &j); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(j.Flags, tt.wantFlags) {
					t.Errorf("JSON flags %q, want %q", j.Flags, tt.wantFlags)
				}
				if got := len(x.Response.Body.Bytes()); got > cfg.HTTP.MaxBody {
					t.Errorf("body %d bytes, more than MaxBody", got)
				}
				if tt.body == "not gzip" && (!x.Response.AllFlags().Has(message.FlagDecodeError) || !strings.HasPrefix(string(x.Response.Body.Bytes()), "not")) {
					t.Errorf("bad coding: flags %v body %q", x.Response.AllFlags(), x.Response.Body.Bytes())
				}
			}
			if got := tt.stat(w.p.Stats()); got != tt.want {
				t.Errorf("counter = %d, want %d (%+v)", got, tt.want, w.p.Stats())
			}
		})
	}
}
