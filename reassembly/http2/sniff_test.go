package http2_test

import (
	"testing"

	"github.com/specter-dev/specter/reassembly/http2"
)

func TestSniff(t *testing.T) {
	settings := []byte{0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100}
	headers := []byte{0, 0, 3, 1, 5, 0, 0, 0, 1, 0x82, 0x84, 0x86}
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"preface", []byte(http2.Preface), true},
		{"preface prefix", []byte("PRI * HT"), true},
		{"SETTINGS then HEADERS", append(append([]byte{}, settings...), headers...), true},
		{"HEADERS cut by the segment end", headers[:10], true},
		{"mid-connection DATA", []byte{0, 0, 2, 0, 1, 0, 0, 0, 7, 'h', 'i'}, true},
		{"HTTP/1 request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false},
		{"PRI alone", []byte("PRI"), false},
		{"TLS ClientHello", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}, false},
		{"SETTINGS with a bad length", []byte{0, 0, 5, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5}, false},
		{"CONTINUATION first", []byte{0, 0, 1, 9, 4, 0, 0, 0, 1, 0x82}, false},
		{"frame then junk", append(append([]byte{}, settings...), "junk junk"...), false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		if got := http2.Sniff(tc.b); got != tc.want {
			t.Errorf("%s: Sniff = %v, want %v", tc.name, got, tc.want)
		}
	}
}
