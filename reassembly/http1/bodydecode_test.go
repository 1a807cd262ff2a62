package http1

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly/message"
)

// DecodeBody decodes bodies framed elsewhere as the parser decodes its
// own: the same codings, bounds and flags.
func TestDecodeBody(t *testing.T) {
	big := strings.Repeat("a", 4<<20)
	var text strings.Builder
	for i := range 2000 {
		text.WriteString(strconv.Itoa(i * 7919 % 10007))
	}
	tests := []struct {
		name      string
		ce        []string
		body      string
		flags     message.Flags
		want      string
		wantFlags message.Flags // the message's and the body's
		anomalies []string
	}{
		{name: "none", body: "plain", want: "plain"},
		{name: "identity", ce: []string{"identity"}, body: "plain", want: "plain"},
		{name: "gzip", ce: []string{"gzip"}, body: gz(`{"a":1}`), want: `{"a":1}`},
		{name: "two layers", ce: []string{"deflate, gzip"}, body: gz(zl("x")), want: "x"},
		{name: "corrupt whole body", ce: []string{"gzip"}, body: "not gzip", want: "not gzip", wantFlags: message.FlagDecodeError},
		{name: "bomb", ce: []string{"gzip"}, body: gz(big), want: big[:256<<10], wantFlags: message.FlagBodyTruncated | message.FlagBombCut},
		{name: "too many codings", ce: []string{"gzip, gzip, gzip, gzip, gzip"}, body: "x", want: "x",
			wantFlags: message.FlagCodingsCapped, anomalies: []string{AnomalyTooManyCodings}},
		{name: "cut body keeps what decoded", ce: []string{"gzip"}, body: gz(text.String())[:len(gz(text.String()))/2], flags: message.FlagIncomplete,
			wantFlags: message.FlagIncomplete},
	}
	p := NewParser(nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.ce != nil {
				h["Content-Encoding"] = tt.ce
			}
			b, mflags, a := p.DecodeBody(h, []byte(tt.body), tt.flags)
			got, flags := b.Bytes(), mflags|b.Flags()
			if tt.name == "cut body keeps what decoded" {
				if len(got) == 0 || !strings.HasPrefix(text.String(), string(got)) {
					t.Errorf("got %q, want a prefix of the text", got)
				}
			} else if string(got) != tt.want {
				t.Errorf("body %.40q, want %.40q", got, tt.want)
			}
			if flags != tt.wantFlags || !slices.Equal(a, tt.anomalies) {
				t.Errorf("flags %v anomalies %v, want %v %v", flags, a, tt.wantFlags, tt.anomalies)
			}
		})
	}
}
