package tlsdecrypt_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// feedConn starts a connection and feeds it chunks.
func feedConn(dec *tlsdecrypt.Decryptor, chunks []chunk) (*collect, *tlsdecrypt.Conn) {
	h := &collect{}
	c := dec.NewConn(h)
	for _, ch := range chunks {
		c.Feed(ch.dir, ch.data)
	}
	return h, c
}

// TestPendingTotal holds two connections' ciphertext waiting for keys
// under a total bound that fits one: the second is given up and counted,
// the first decrypts once the keys arrive, and the bytes it held are
// released for the next connection.
func TestPendingTotal(t *testing.T) {
	cfg := &tls.Config{MaxVersion: tls.VersionTLS13}
	rec, keylog := goSession(t, cfg.Clone(), cfg, false)
	chunks := rec.conns[0]
	// What one connection holds: the protected records, about its bytes.
	var size int
	for _, ch := range chunks {
		size += len(ch.data)
	}
	keys := tlsdecrypt.NewKeyLog(0)
	dec := tlsdecrypt.New(keys, tlsdecrypt.Config{MaxPending: 4 * size, MaxPendingTotal: size + size/2})
	ha, a := feedConn(dec, chunks)
	_, b := feedConn(dec, chunks)
	if _, err := keys.Read(bytes.NewReader(keylog), "late"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	if got := len(parseH1(ha.plain[0].Bytes())); got != len(requestsSent()) {
		t.Errorf("first connection: %d requests, want %d", got, len(requestsSent()))
	}
	st := dec.Stats()
	if st.Decrypted != 1 || st.Failed[tlsdecrypt.ReasonPendingOverflow] != 1 || st.PendingTotalHits != 1 || st.PendingDropped == 0 {
		t.Errorf("stats %+v, want one decrypted and one past the total bound", st)
	}
	// Both closed: nothing is held, so a third connection waits whole
	// (keys now known, it decrypts at once; the bound must not trip).
	keys2 := tlsdecrypt.NewKeyLog(0)
	dec2 := tlsdecrypt.New(keys2, tlsdecrypt.Config{MaxPending: 4 * size, MaxPendingTotal: size + size/2})
	for range 3 {
		_, c := feedConn(dec2, chunks)
		keys2.Read(bytes.NewReader(keylog), "late")
		c.Close()
	}
	if st := dec2.Stats(); st.Decrypted != 3 || st.PendingTotalHits != 0 {
		t.Errorf("sequential connections: stats %+v, want 3 decrypted (pending bytes released on Close)", st)
	}
}

// TestWatchLateKeys follows a key log that the client writes while the
// connection is being fed: records wait, and decrypt when Watch reads the
// keys.
func TestWatchLateKeys(t *testing.T) {
	cfg := &tls.Config{MaxVersion: tls.VersionTLS12}
	rec, keylog := goSession(t, cfg.Clone(), cfg, false)
	chunks := rec.conns[0]
	path := filepath.Join(t.TempDir(), "keys.log")
	keys := tlsdecrypt.NewKeyLog(0)
	f := keys.Follow(path)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var errs []error
	var mu sync.Mutex
	wg.Go(func() {
		f.Watch(ctx, 5*time.Millisecond, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	})
	dec := tlsdecrypt.New(keys, tlsdecrypt.Config{})
	half := len(chunks) / 2
	h, c := feedConn(dec, chunks[:half])
	// The file appears, its lines in two writes, one cut mid-line.
	cut := len(keylog) / 2
	if err := os.WriteFile(path, keylog[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write(keylog[cut:])
	fh.Close()
	deadline := time.Now().Add(10 * time.Second)
	for keys.Stats().Sessions == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, ch := range chunks[half:] {
		c.Feed(ch.dir, ch.data)
	}
	c.Close()
	cancel()
	wg.Wait()
	if got := len(parseH1(h.plain[0].Bytes())); got != len(requestsSent()) {
		t.Errorf("%d requests, want %d", got, len(requestsSent()))
	}
	if st := dec.Stats(); st.Decrypted != 1 {
		t.Errorf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	// Missing at first: reported once, then followed without more errors.
	if len(errs) > 1 || len(errs) == 1 && !errors.Is(errs[0], fs.ErrNotExist) {
		t.Errorf("watch errors %v, want at most the missing file once", errs)
	}
}

// TestPollBound reads a backlog larger than MaxPollBytes in steps, and
// does not reopen an unchanged file.
func TestPollBound(t *testing.T) {
	cfg := &tls.Config{MaxVersion: tls.VersionTLS13}
	var all []byte
	for range 3 {
		_, keylog := goSession(t, cfg.Clone(), cfg, false)
		all = append(all, keylog...)
	}
	path := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(path, all, 0o600); err != nil {
		t.Fatal(err)
	}
	keys := tlsdecrypt.NewKeyLog(0)
	f := keys.Follow(path)
	f.MaxPollBytes = 4096 + 1 // past the longest line the parser reads
	polls := 0
	for {
		if err := f.Poll(); err != nil {
			t.Fatal(err)
		}
		polls++
		if f.Backlog() == 0 || polls > 100 {
			break
		}
	}
	if want := (len(all) + 4096) / 4097; polls < want {
		t.Errorf("%d polls for %d bytes, want at least %d", polls, len(all), want)
	}
	if st := keys.Stats(); st.Sessions != 3 || st.Malformed != 0 {
		t.Errorf("stats %+v, want 3 sessions", st)
	}
	// Replaced by another file (rotation): read again from its start.
	os.Remove(path)
	os.WriteFile(path, all[:bytes.IndexByte(all, '\n')+1], 0o600)
	if err := f.Poll(); err != nil {
		t.Fatal(err)
	}
	if st := keys.Stats(); st.Reopened != 1 {
		t.Errorf("stats %+v after the file was replaced, want reopened 1", st)
	}
}
