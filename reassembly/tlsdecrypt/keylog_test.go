package tlsdecrypt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	cr1 = "0101010101010101010101010101010101010101010101010101010101010101"
	cr2 = "0202020202020202020202020202020202020202020202020202020202020202"
)

var (
	master = strings.Repeat("ab", 48)
	sec32  = strings.Repeat("cd", 32)
)

func TestKeyLogRead(t *testing.T) {
	cases := []struct {
		name      string
		text      string
		sessions  uint64
		secrets   uint64
		malformed uint64
		ignored   uint64
		errLine   int64
		errField  string
	}{
		{"client random", "CLIENT_RANDOM " + cr1 + " " + master + "\n", 1, 1, 0, 0, 0, ""},
		{"tls13 and comments", "# c\n\nCLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + sec32 + "\r\nSERVER_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + sec32 + "\nEXPORTER_SECRET " + cr1 + " " + sec32 + "\n", 1, 2, 0, 1, 0, ""},
		{"no final newline", "CLIENT_RANDOM " + cr1 + " " + master, 1, 1, 0, 0, 0, ""},
		{"short random", "CLIENT_RANDOM 0102 " + master + "\nCLIENT_RANDOM " + cr2 + " " + master + "\n", 1, 1, 1, 0, 1, "client random"},
		{"bad hex secret", "\nCLIENT_RANDOM " + cr1 + " zz" + master[2:] + "\n", 0, 0, 1, 0, 2, "secret"},
		{"master length", "CLIENT_RANDOM " + cr1 + " " + sec32 + "\n", 0, 0, 1, 0, 1, "secret"},
		{"fields", "CLIENT_RANDOM " + cr1 + "\n", 0, 0, 1, 0, 1, "line"},
		{"label", "client_random " + cr1 + " " + master + "\n", 0, 0, 1, 0, 1, "label"},
		{"long line", strings.Repeat("A", 10000) + "\nCLIENT_RANDOM " + cr1 + " " + master + "\n", 1, 1, 1, 0, 1, "line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := NewKeyLog(0)
			_, err := k.Read(strings.NewReader(tc.text), "f.log")
			st := k.Stats()
			if st.Sessions != tc.sessions || st.Secrets != tc.secrets || st.Malformed != tc.malformed || st.Ignored != tc.ignored {
				t.Errorf("stats %+v", st)
			}
			var le *LineError
			if tc.errLine == 0 {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if !errors.As(err, &le) || !errors.Is(err, ErrMalformed) || le.Line != tc.errLine || le.Field != tc.errField || le.Source != "f.log" {
				t.Fatalf("error %v, want line %d field %s", err, tc.errLine, tc.errField)
			}
			// The error must not carry key material.
			if strings.Contains(err.Error(), master[:16]) || strings.Contains(err.Error(), sec32[:16]) {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

func TestKeyLogBound(t *testing.T) {
	k := NewKeyLog(1)
	k.Read(strings.NewReader("CLIENT_RANDOM "+cr1+" "+master+"\nCLIENT_RANDOM "+cr2+" "+master+"\nCLIENT_RANDOM "+cr1+" "+master+"\n"), "f")
	if st := k.Stats(); st.Sessions != 1 || st.Dropped != 1 || st.Secrets != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestFollow appends to a key log in pieces, a line cut in the middle
// included, then truncates it.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	line1 := "CLIENT_RANDOM " + cr1 + " " + master + "\n"
	line2 := "CLIENT_RANDOM " + cr2 + " " + master + "\n"
	k := NewKeyLog(0)
	f := k.Follow(path)
	if err := f.Poll(); err == nil {
		t.Fatal("no error for a missing file")
	}
	write := func(s string, flag int) {
		fh, err := os.OpenFile(path, flag|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		fh.WriteString(s)
		fh.Close()
	}
	write(line1+line2[:30], os.O_TRUNC)
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.lookup([32]byte(bytes.Repeat([]byte{1}, 32))); !ok {
		t.Error("first line not read")
	}
	if st := k.Stats(); st.Sessions != 1 || st.Malformed != 0 {
		t.Errorf("after a partial line: %+v", st)
	}
	write(line2[30:], os.O_APPEND)
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if st := k.Stats(); st.Sessions != 2 || st.Malformed != 0 {
		t.Errorf("after the rest of the line: %+v", st)
	}
	gen := k.generation()
	if err := f.Poll(); err != nil || k.generation() != gen {
		t.Errorf("an unchanged file added secrets (err %v)", err)
	}
	// Truncated and rewritten: read again from the start.
	write("CLIENT_RANDOM "+strings.Repeat("03", 32)+" "+master+"\n", os.O_TRUNC)
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if st := k.Stats(); st.Sessions != 3 {
		t.Errorf("after truncation: %+v", st)
	}
}
