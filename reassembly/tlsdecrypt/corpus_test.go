package tlsdecrypt_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

const corpusDir = "../../../shared/corpus/h2-tls"

// corpusRow is one line of counts-tls.tsv.
type corpusRow struct {
	file, keylog string
	suites       []string // "NAME(0xNNNN)" per ServerHello
	versions     string
	conns        int
	requests     int // tshark, with keys
	plainBytes   int // tshark, with keys
}

func readCounts(t *testing.T) []corpusRow {
	f, err := os.Open(filepath.Join(corpusDir, "counts-tls.tsv"))
	if err != nil {
		t.Skipf("shared TLS corpus not available: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var rows []corpusRow
	var cols map[string]int
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, c := range fs {
				cols[c] = i
			}
			continue
		}
		atoi := func(c string) int {
			n, err := strconv.Atoi(fs[cols[c]])
			if err != nil {
				t.Fatalf("counts-tls.tsv: %s: column %s: %v", fs[0], c, err)
			}
			return n
		}
		r := corpusRow{
			file:       fs[cols["file"]],
			keylog:     fs[cols["keylog"]],
			versions:   fs[cols["tls_versions"]],
			conns:      atoi("tls_connections_tcp"),
			requests:   atoi("http_requests_with_keys"),
			plainBytes: atoi("tls_plaintext_bytes_with_keys"),
		}
		if s := fs[cols["cipher_suites"]]; s != "-" {
			r.suites = strings.Fields(s)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// aeadName matches the suites this package decrypts (in TLS 1.2 and 1.3;
// the corpus has no AEAD suite in older versions).
var aeadName = regexp.MustCompile(`_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)\(`)

// TestCorpus decrypts the shared TLS captures with their key logs (or
// their DSBs) and checks the counts against tshark's: every AEAD
// connection decrypts to tshark's request count and plaintext bytes; the
// others are counted as unsupported by suite name and produce nothing.
func TestCorpus(t *testing.T) {
	for _, row := range readCounts(t) {
		if row.conns == 0 {
			continue
		}
		t.Run(row.file, func(t *testing.T) {
			keys := tlsdecrypt.NewKeyLog(0)
			if row.keylog != "dsb" && row.keylog != "none" {
				f, err := os.Open(filepath.Join(corpusDir, row.keylog))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := keys.Read(f, row.keylog); err != nil {
					t.Fatalf("key log: %v", err)
				}
				f.Close()
			}
			res := runCapture(t, filepath.Join(corpusDir, row.file), keys)
			st := res.stats
			aead := 0
			for _, s := range row.suites {
				if aeadName.MatchString(s) {
					aead++
				}
			}
			t.Logf("%d conns (%d AEAD): stats %+v; requests %d (tshark %d), plaintext %d (tshark %d)",
				row.conns, aead, st, res.requests, row.requests, res.plainSize, row.plainBytes)
			if int(st.Seen) < row.conns {
				t.Errorf("seen %d TLS connections, tshark %d", st.Seen, row.conns)
			}
			if int(st.Decrypted) != aead {
				t.Errorf("decrypted %d connections, want the %d AEAD ones; failed %v", st.Decrypted, aead, st.Failed)
			}
			if n := int(st.Failed[tlsdecrypt.ReasonUnsupportedSuite]); n != row.conns-aead {
				t.Errorf("unsupported %d, want %d (%v)", n, row.conns-aead, st.Unsupported)
			}
			for r, n := range st.Failed {
				if r != tlsdecrypt.ReasonUnsupportedSuite {
					t.Errorf("failed %s: %d", r, n)
				}
			}
			if st.RecordsFailed != 0 {
				t.Errorf("%d records failed authentication", st.RecordsFailed)
			}
			for _, s := range row.suites {
				name := s[:strings.IndexByte(s, '(')]
				if !aeadName.MatchString(s) && st.Unsupported[name] == 0 && st.Unsupported["TLS 1.0 "+name] == 0 {
					t.Errorf("suite %s not counted as unsupported by name (%v)", name, st.UnsupportedNames())
				}
			}
			switch {
			case aead == row.conns:
				if res.requests != row.requests {
					t.Errorf("%d requests, tshark %d", res.requests, row.requests)
				}
				if res.plainSize != row.plainBytes {
					t.Errorf("%d plaintext bytes, tshark %d", res.plainSize, row.plainBytes)
				}
			case aead == 0:
				if res.plainSize != 0 || res.requests != 0 {
					t.Errorf("unsupported suites gave %d plaintext bytes, %d requests", res.plainSize, res.requests)
				}
			default:
				// Mixed (wireshark-notes/all__dump): one GET per connection
				// (the corpus README), so one request per decrypted one.
				if res.requests != aead {
					t.Errorf("%d requests from %d decrypted connections", res.requests, aead)
				}
			}
		})
	}
}
