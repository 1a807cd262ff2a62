package store

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/specter-dev/specter/reassembly"
)

// TestTLSServices adds two runs' TLS services: counts add up, lists merge
// without repeats, a name-less service is keyed by its server, and the
// bound counts what it does not keep.
func TestTLSServices(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Memory, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	run1 := []reassembly.TLSService{
		{SNI: "api.example", Server: srv, ALPN: []string{"h2"}, Versions: []uint16{tls.VersionTLS13}, Conns: 3, Decrypted: 1},
		{Server: netip.MustParseAddrPort("10.0.0.9:8443"), Versions: []uint16{tls.VersionTLS12}, Conns: 1},
	}
	run2 := []reassembly.TLSService{
		{SNI: "api.example", Server: netip.MustParseAddrPort("10.0.0.3:443"), ALPN: []string{"h2", "http/1.1"}, Versions: []uint16{tls.VersionTLS12, tls.VersionTLS13}, Conns: 2, Decrypted: 2},
	}
	for _, r := range [][]reassembly.TLSService{run1, run2} {
		if err := db.AddTLSServices(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, dropped, err := db.TLSServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []TLSService{
		{Server: "10.0.0.9:8443", Versions: []string{"TLS 1.2"}, Conns: 1},
		{SNI: "api.example", Server: "10.0.0.2:443", ALPN: []string{"h2", "http/1.1"}, Versions: []string{"TLS 1.3", "TLS 1.2"}, Conns: 5, Decrypted: 3},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || dropped != 0 {
		t.Errorf("got %+v (dropped %d), want %+v", got, dropped, want)
	}

	// Past the bound: counted, not kept.
	var many []reassembly.TLSService
	for i := range MaxTLSServices {
		many = append(many, reassembly.TLSService{SNI: fmt.Sprintf("h%d.example", i), Conns: 1})
	}
	if err := db.AddTLSServices(ctx, many); err != nil {
		t.Fatal(err)
	}
	got, dropped, err = db.TLSServices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxTLSServices || dropped != 2 || !slices.ContainsFunc(got, func(s TLSService) bool { return s.SNI == "api.example" }) {
		t.Errorf("%d services kept, %d dropped; want %d and 2", len(got), dropped, MaxTLSServices)
	}
}
