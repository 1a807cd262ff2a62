package main

import (
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/specter-dev/specter/cmd/internal/pipeline"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// tlsCorpus is the shared TLS captures with their key logs.
const tlsCorpus = "../../../shared/corpus/h2-tls"

// aeadSuite matches the IANA names of the suites specter decrypts.
var aeadSuite = regexp.MustCompile(`_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$`)

// TestKeylogCorpus runs specter analyze --keylog on every capture of the
// shared TLS corpus that has keys (a key log file, or a pcapng DSB): a
// capture whose connections all use AEAD suites gives tshark's HTTP
// request count (counts-tls.tsv); a connection with another suite is
// counted unsupported under its suite's name and gives nothing, never a
// garbage exchange. Without the key log file, nothing is decrypted and
// every connection is counted as having no key.
func TestKeylogCorpus(t *testing.T) {
	f, err := os.Open(filepath.Join(tlsCorpus, "counts-tls.tsv"))
	if err != nil {
		t.Skipf("shared TLS corpus not available: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("counts-tls.tsv: %v", err)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	num := func(rec []string, c string) uint64 {
		n, err := strconv.ParseUint(rec[col[c]], 10, 64)
		if err != nil {
			t.Fatalf("counts-tls.tsv: %s: %s: %v", rec[0], c, err)
		}
		return n
	}
	checked := 0
	for _, rec := range recs[1:] {
		file, keylog := rec[col["file"]], rec[col["keylog"]]
		if keylog == "none" {
			continue
		}
		checked++
		t.Run(file, func(t *testing.T) {
			conns, requests := num(rec, "tls_connections_tcp"), num(rec, "http_requests_with_keys")
			// The suite of each ServerHello, "NAME(0xNNNN)", one per
			// connection (each listed once per capture).
			var aead, other uint64
			var otherNames []string
			for _, s := range strings.Fields(rec[col["cipher_suites"]]) {
				name, _, _ := strings.Cut(s, "(")
				if aeadSuite.MatchString(name) {
					aead++
				} else {
					other++
					otherNames = append(otherNames, name)
				}
			}
			args := []string{filepath.Join(tlsCorpus, file)}
			if keylog != "dsb" {
				args = append([]string{"--keylog", filepath.Join(tlsCorpus, keylog)}, args...)
			}
			s := analyzeSummary(t, args...)
			tl := s.Reassembly.TLS
			if tl.Seen != conns {
				t.Errorf("%d TLS connections seen, tshark %d", tl.Seen, conns)
			}
			switch {
			case other == 0:
				if s.Reassembly.Requests != requests || tl.Decrypted != conns {
					t.Errorf("%d requests, %d connections decrypted; tshark %d requests, %d connections (tls %+v)", s.Reassembly.Requests, tl.Decrypted, requests, conns, tl)
				}
			default:
				// tshark decrypts CBC and NULL suites too: each of its
				// connections here carries requests/conns requests.
				if want := requests * aead / max(conns, 1); s.Reassembly.Requests != want || tl.Decrypted != aead {
					t.Errorf("%d requests, %d decrypted, want %d from the %d AEAD connections", s.Reassembly.Requests, tl.Decrypted, want, aead)
				}
				if tl.Failed[tlsdecrypt.ReasonUnsupportedSuite] != other {
					t.Errorf("%d connections unsupported, want %d (tls %+v)", tl.Failed[tlsdecrypt.ReasonUnsupportedSuite], other, tl)
				}
				for _, n := range otherNames {
					if !hasSuite(tl.Unsupported, n) {
						t.Errorf("unsupported suite %s not named in %v", n, tl.UnsupportedNames())
					}
				}
			}
			if keylog == "dsb" {
				return
			}
			// Without its key log.
			s = analyzeSummary(t, filepath.Join(tlsCorpus, file))
			if s.Reassembly.Requests != num(rec, "http_requests_without_keys") || s.Reassembly.TLS.Decrypted != 0 {
				t.Errorf("without keys: %d requests, tls %+v", s.Reassembly.Requests, s.Reassembly.TLS)
			}
			if s.Reassembly.TLS.Failed[tlsdecrypt.ReasonNoKey] != aead {
				t.Errorf("without keys: %d connections without a key, want %d", s.Reassembly.TLS.Failed[tlsdecrypt.ReasonNoKey], aead)
			}
		})
	}
	if checked == 0 {
		t.Fatal("counts-tls.tsv lists no capture with keys")
	}
}

// hasSuite reports whether an unsupported-suite name counted by
// tlsdecrypt (possibly prefixed by the version, "TLS 1.0 ...") is name.
func hasSuite(counted map[string]uint64, name string) bool {
	for n := range counted {
		if n == name || strings.HasSuffix(n, " "+name) {
			return true
		}
	}
	return false
}

// TestTLSServicesInventory: without keys, the handshakes still put each
// TLS service in the inventory by its SNI (version, and ALPN when the
// server said it in clear), through analyze --db and endpoints --db; with
// keys, the decrypted connection is counted as such, and what only the
// encrypted handshake says (TLS 1.3's ALPN) is added.
func TestTLSServicesInventory(t *testing.T) {
	google := filepath.Join(tlsCorpus, "snet/tls1.3_curl_google.pcap")
	if _, err := os.Stat(google); err != nil {
		t.Skipf("shared TLS corpus not available: %v", err)
	}
	db := filepath.Join(t.TempDir(), "inv.db")
	if _, errs, code := run(t, "analyze", "--db", db, google); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, errs)
	}
	if _, errs, code := run(t, "analyze", "--db", db, "--keylog", filepath.Join(tlsCorpus, "snet/log.txt"), google); code != exitOK {
		t.Fatalf("analyze --keylog: exit %d: %s", code, errs)
	}
	out, errs, code := run(t, "endpoints", "--db", db)
	if code != exitOK {
		t.Fatalf("endpoints: exit %d: %s", code, errs)
	}
	_, tail, ok := strings.Cut(out, "TLS services")
	// TLS 1.3 says ALPN only in the encrypted handshake: h2, learned
	// from the decrypted run.
	row := regexp.MustCompile(`(?m)^www\.google\.com\s+\S+:443\s+h2\s+TLS 1\.3\s+2\s+1\s*$`)
	if !ok || !row.MatchString(tail) {
		t.Errorf("endpoints --db: no TLS service row for www.google.com (h2, 2 connections, 1 decrypted):\n%s", out)
	}
	// The decrypted exchange's service is named by Host (curl sends one);
	// the list of endpoints has it.
	if !strings.Contains(out, "www.google.com  GET") {
		t.Errorf("endpoints --db: no endpoint of www.google.com:\n%s", out)
	}
}

// TestTLSMetrics reads the TLS counters as capture --metrics serves them,
// after a run over a corpus capture with one decrypted connection and
// one of an unsupported suite.
func TestTLSMetrics(t *testing.T) {
	files := []string{"snet/tls1.3_curl_google.pcap", "snet/TLS1_3_TLS_AES_128_CCM_SHA256.pcap"}
	keys := []string{"snet/log.txt", "snet/TLS1_3_TLS_AES_128_CCM_SHA256.txt"}
	var paths []string
	for i := range files {
		paths = append(paths, filepath.Join(tlsCorpus, keys[i]))
		if _, err := os.Stat(filepath.Join(tlsCorpus, files[i])); err != nil {
			t.Skipf("shared TLS corpus not available: %v", err)
		}
	}
	dec, err := openKeylogs(context.Background(), io.Discard, paths, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := reassembly.DefaultConfig()
	cfg.TLS = dec
	for _, f := range files {
		src := &pipeline.Files{Paths: []string{filepath.Join(tlsCorpus, f)}, Config: cfg, Emit: func(*reassembly.Exchange) {}}
		if _, err := src.Run(context.Background(), &pipeline.Counters{}); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newTLSCollector(dec))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetValue() != "" {
					key += "," + l.GetName() + "=" + l.GetValue()
				}
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	for k, v := range map[string]float64{
		"specter_tls_connections_total,state=seen":                                       2,
		"specter_tls_connections_total,state=with_keys":                                  2,
		"specter_tls_connections_total,state=decrypted":                                  1,
		"specter_tls_failed_total,reason=unsupported_suite,suite=TLS_AES_128_CCM_SHA256": 1,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
