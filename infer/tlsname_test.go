package infer

import (
	"net/netip"
	"testing"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// TestServiceNameSNI: a decrypted exchange without a usable Host is named
// by its TLS server name; Host, when there, wins; a bad SNI falls back to
// the server's address.
func TestServiceNameSNI(t *testing.T) {
	srv := netip.MustParseAddrPort("192.0.2.7:443")
	for _, tc := range []struct {
		host string
		tls  *reassembly.TLSInfo
		want string
	}{
		{"", &reassembly.TLSInfo{SNI: "API.example.com"}, "api.example.com"},
		{"bad host/name", &reassembly.TLSInfo{SNI: "api.example.com"}, "api.example.com"},
		{"www.example.com", &reassembly.TLSInfo{SNI: "api.example.com"}, "www.example.com"},
		{"", &reassembly.TLSInfo{}, "192.0.2.7:443"},
		{"", &reassembly.TLSInfo{SNI: "bad sni/x"}, "192.0.2.7:443"},
		{"", nil, "192.0.2.7:443"},
	} {
		x := &reassembly.Exchange{Flow: reassembly.Flow{Server: srv}, Request: &message.Request{Authority: tc.host}, TLS: tc.tls}
		if got := ServiceName(x); got != tc.want {
			t.Errorf("ServiceName(host %q, tls %+v) = %q, want %q", tc.host, tc.tls, got, tc.want)
		}
		m := NewModel(Config{})
		if got := m.serviceName(x); got != tc.want {
			t.Errorf("Model.serviceName(host %q, tls %+v) = %q, want %q", tc.host, tc.tls, got, tc.want)
		}
	}
}
