package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
)

// exchangesOf reads a capture through the decoder and the reassembly
// pipeline.
func exchangesOf(tb testing.TB, path string) []*reassembly.Exchange {
	tb.Helper()
	r, err := capture.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var xs []*reassembly.Exchange
	pipe := reassembly.New(reassembly.DefaultConfig(), func(x *reassembly.Exchange) { xs = append(xs, x) })
	dec := capture.NewDecoder(capture.DecoderOptions{})
	var pkt capture.Packet
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if ok, err := dec.Decode(f, &pkt); err == nil && ok {
			pipe.Add(&pkt)
		}
	}
	pipe.Close()
	return xs
}

func openTemp(t *testing.T, name string) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), name), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ingest runs xs into db as one run, checkpointing every `every`
// exchanges.
func ingest(t testing.TB, db *DB, every int, xs []*reassembly.Exchange) {
	t.Helper()
	ctx := context.Background()
	in, err := db.BeginRun(ctx, RunInfo{Inputs: []string{"test"}, Version: "test"}, IngestOptions{Every: every, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range xs {
		in.Observe(x)
	}
	if err := in.Finish(ctx, RunTotals{Complete: true}); err != nil {
		t.Fatal(err)
	}
}

// inventory renders what a database holds as the CLI shows it: the
// endpoint rows as JSON and the OpenAPI export of the stored model.
func inventory(t *testing.T, db *DB) (eps, doc string) {
	t.Helper()
	ctx := context.Background()
	list, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fromModel := m.Endpoints()
	if fromModel == nil {
		fromModel = []infer.EndpointSummary{}
	}
	a, b := mustJSON(t, list), mustJSON(t, fromModel)
	if a != b {
		t.Fatalf("endpoint rows disagree with the stored state:\nrows:  %s\nstate: %s", a, b)
	}
	return a, export(t, m)
}

func modelInventory(t *testing.T, m *infer.Model) (eps, doc string) {
	t.Helper()
	list := m.Endpoints()
	if list == nil {
		list = []infer.EndpointSummary{}
	}
	return mustJSON(t, list), export(t, m)
}

// export renders the model's OpenAPI document as specter export does by
// default: without examples. Which example is kept is the one thing that
// depends on how the traffic was split: a model keeps the first body it
// samples and a merge the smaller of two (infer.mergeBody), so examples
// are compared apart (see TestIncremental).
func export(t *testing.T, m *infer.Model) string {
	t.Helper()
	d, err := m.OpenAPIAll(infer.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := infer.Write(&buf, d, "yaml"); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// exportExamples is export with the redacted examples.
func exportExamples(t *testing.T, m *infer.Model) string {
	t.Helper()
	d, err := m.OpenAPIAll(infer.ExportOptions{Examples: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := infer.Write(&buf, d, "yaml"); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameInventory(t *testing.T, what string, gotEps, gotDoc, wantEps, wantDoc string) {
	t.Helper()
	if gotEps != wantEps {
		t.Errorf("%s: endpoints differ:\n%s", what, firstDiff(gotEps, wantEps))
	}
	if gotDoc != wantDoc {
		t.Errorf("%s: OpenAPI differs:\n%s", what, firstDiff(gotDoc, wantDoc))
	}
}

// firstDiff shows the first differing line with some context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			lo := max(0, i-3)
			return "context:\n  " + strings.Join(al[lo:i], "\n  ") + "\ngot:  " + x + "\nwant: " + y
		}
	}
	return "(equal)"
}

func trafficSets(t *testing.T) []string {
	dir := corpus.Dir(t, "corpus/traffic")
	sets, err := filepath.Glob(filepath.Join(dir, "*", "traffic.pcap"))
	if err != nil || len(sets) == 0 {
		t.Skipf("no traffic sets in %s", dir)
	}
	sort.Strings(sets)
	if testing.Short() && len(sets) > 2 {
		// The two smallest.
		size := func(p string) int64 {
			st, err := os.Stat(p)
			if err != nil {
				return 0
			}
			return st.Size()
		}
		sort.Slice(sets, func(i, j int) bool { return size(sets[i]) < size(sets[j]) })
		sets = sets[:2]
		sort.Strings(sets)
	}
	return sets
}

// TestIncremental: analyzing A then B into one database gives the inventory
// of analyzing A and B together (in one run, and in memory), for halves of
// one capture and for two different captures; checkpoints in the middle of
// a run change nothing either.
func TestIncremental(t *testing.T) {
	sets := trafficSets(t)
	all := map[string][]*reassembly.Exchange{}
	for _, s := range sets {
		all[s] = exchangesOf(t, s)
	}
	type split struct {
		name string
		a, b []*reassembly.Exchange
	}
	var cases []split
	for _, s := range sets {
		xs := all[s]
		if len(xs) < 2 {
			continue
		}
		cases = append(cases, split{filepath.Base(filepath.Dir(s)) + "/halves", xs[:len(xs)/2], xs[len(xs)/2:]})
	}
	for i := 0; i+1 < len(sets); i += 2 {
		cases = append(cases, split{filepath.Base(filepath.Dir(sets[i])) + "+" + filepath.Base(filepath.Dir(sets[i+1])), all[sets[i]], all[sets[i+1]]})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			together := append(append([]*reassembly.Exchange{}, tc.a...), tc.b...)
			mem := infer.NewModel(infer.Config{})
			for _, x := range together {
				mem.Observe(x)
			}
			wantEps, wantDoc := modelInventory(t, mem)
			wantExamples := strings.Count(exportExamples(t, mem), "example:")
			if len(mem.Endpoints()) == 0 {
				t.Fatal("no endpoints inferred: the comparison would prove nothing")
			}

			one := openTemp(t, "one.db")
			ingest(t, one, 1<<30, together)
			eps, doc := inventory(t, one)
			sameInventory(t, "A+B in one run vs in memory", eps, doc, wantEps, wantDoc)

			seq := openTemp(t, "seq.db")
			ingest(t, seq, 1<<30, tc.a)
			ingest(t, seq, 1<<30, tc.b)
			eps, doc = inventory(t, seq)
			sameInventory(t, "A then B vs A+B", eps, doc, wantEps, wantDoc)

			chk := openTemp(t, "chk.db")
			// Some 16 checkpoints per run, at odd counts.
			ingest(t, chk, max(37, len(tc.a)/16|1), tc.a)
			ingest(t, chk, max(53, len(tc.b)/16|1), tc.b)
			eps, doc = inventory(t, chk)
			sameInventory(t, "A then B with checkpoints every few exchanges vs A+B", eps, doc, wantEps, wantDoc)

			// The same operations, statuses and media types keep an example.
			for _, db := range []*DB{one, seq, chk} {
				m, err := db.Model(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.Count(exportExamples(t, m), "example:"); got != wantExamples {
					t.Errorf("%s: %d examples, want %d", filepath.Base(db.Path()), got, wantExamples)
				}
			}
		})
	}
}

// TestMerge: merging the databases of A and of B gives the inventory of
// A+B, and copies the runs.
func TestMerge(t *testing.T) {
	sets := trafficSets(t)
	if len(sets) < 2 {
		t.Skip("need two traffic sets")
	}
	a, b := exchangesOf(t, sets[0]), exchangesOf(t, sets[1])
	xs := exchangesOf(t, sets[2%len(sets)])
	dbA, dbB, out := openTemp(t, "a.db"), openTemp(t, "b.db"), openTemp(t, "out.db")
	ingest(t, dbA, 1<<30, a)
	ingest(t, dbB, 1<<30, b)
	// out already holds a third inventory.
	ingest(t, out, 1<<30, xs)
	ctx := context.Background()
	for _, src := range []*DB{dbA, dbB} {
		if err := out.MergeFrom(ctx, src); err != nil {
			t.Fatal(err)
		}
	}
	mem := infer.NewModel(infer.Config{})
	for _, part := range [][]*reassembly.Exchange{xs, a, b} {
		m := infer.NewModel(infer.Config{})
		for _, x := range part {
			m.Observe(x)
		}
		mem.Merge(m)
	}
	wantEps, wantDoc := modelInventory(t, mem)
	eps, doc := inventory(t, out)
	sameInventory(t, "merged databases vs merged models", eps, doc, wantEps, wantDoc)
	runs, err := out.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[1].Source != dbA.Path() || runs[2].Source != dbB.Path() || runs[1].Exchanges != uint64(len(a)) {
		t.Errorf("runs after merge: %+v", runs)
	}
}

func TestFileModes(t *testing.T) {
	old := syscallUmask(0)
	syscallUmask(old)
	for _, umask := range []int{0o022, 0o000} {
		syscallUmask(umask)
		path := filepath.Join(t.TempDir(), "specter.db")
		db, err := Open(context.Background(), path, Options{})
		if err != nil {
			syscallUmask(old)
			t.Fatal(err)
		}
		ingest(t, db, 10, nil) // writes, so -wal and -shm exist
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Errorf("umask %03o: %v", umask, err)
				continue
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("umask %03o: %s has mode %v, want 0600", umask, filepath.Base(p), st.Mode().Perm())
			}
		}
		db.Close()
	}
	syscallUmask(old)
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database at all "), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.db")
	{
		db := openTemp(t, "full.db")
		ingest(t, db, 100, nil)
		db.Close()
		data, err := os.ReadFile(db.Path())
		if err != nil {
			t.Fatal(err)
		}
		corrupt := append([]byte{}, data...)
		copy(corrupt[0:16], "SQLite format 9\x00")
		if err := os.WriteFile(truncated, corrupt, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "other.db")
	{
		sdb, err := sql.Open("sqlite3", other)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sdb.Exec("CREATE TABLE t (x); PRAGMA user_version = 1"); err != nil {
			t.Fatal(err)
		}
		sdb.Close()
	}
	newer := filepath.Join(dir, "newer.db")
	{
		db, err := Open(ctx, newer, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.sql.Exec("PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	for _, tc := range []struct {
		name, path string
		opts       Options
		want       []string
	}{
		{"garbage", garbage, Options{}, []string{"garbage.db", "not a readable SQLite database"}},
		{"bad header", truncated, Options{}, []string{"truncated.db"}},
		{"other application", other, Options{}, []string{"other.db", "not a Specter database"}},
		{"newer schema", newer, Options{}, []string{"newer.db", "version 99", "newer than this specter supports", "version " + strconv.Itoa(SchemaVersion())}},
		{"read-only missing", filepath.Join(dir, "missing.db"), Options{ReadOnly: true}, []string{"missing.db"}},
		{"empty path", "", Options{}, []string{"empty database path"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(ctx, tc.path, tc.opts)
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Memory, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Version() != SchemaVersion() || SchemaVersion() < 2 {
		t.Fatalf("version %d, schema %d", db.Version(), SchemaVersion())
	}
	ingest(t, db, 3, synthExchanges(50))
	eps, err := db.Endpoints(ctx, "")
	if err != nil || len(eps) == 0 {
		t.Fatalf("endpoints %v, %v", eps, err)
	}
	got, err := db.IntegrityCheck(ctx)
	if err != nil || got != "ok" {
		t.Fatalf("integrity %q, %v", got, err)
	}
}

// TestMigrateV1 opens a database of the first schema (built from the
// committed fixture, a dump of a v1 database with an inventory) and checks
// it is migrated, its inventory intact and its endpoint rows completed.
func TestMigrateV1(t *testing.T) {
	ctx := context.Background()
	dump, err := os.ReadFile("testdata/v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.db")
	sdb, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(string(dump)); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := sdb.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 1 {
		t.Fatalf("fixture version %d, %v", v, err)
	}
	sdb.Close()

	if _, err := Open(ctx, path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "older") {
		t.Errorf("read-only open of a v1 database: %v", err)
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Version() != SchemaVersion() {
		t.Fatalf("migrated to %d, want %d", db.Version(), SchemaVersion())
	}
	eps, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) == 0 {
		t.Fatal("no endpoints after migration")
	}
	m, err := db.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, eps), mustJSON(t, m.Endpoints()); a != b {
		t.Errorf("migrated endpoint rows differ from the state:\n%s", firstDiff(a, b))
	}
	runs, err := db.Runs(ctx)
	if err != nil || len(runs) == 0 || runs[0].Status != StatusComplete {
		t.Errorf("runs after migration: %+v, %v", runs, err)
	}
	// It keeps learning: more traffic adds to the migrated inventory.
	before := eps[0].Count
	ingest(t, db, 100, synthExchanges(40))
	eps, err = db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, e := range eps {
		total += e.Count
	}
	if total <= before {
		t.Errorf("no growth after ingest into the migrated database: %d", total)
	}
}

// TestConcurrentReader: a reader lists endpoints and loads the model while
// a writer ingests with frequent checkpoints; every read succeeds and sees
// a consistent, growing inventory.
func TestConcurrentReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	w, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.sql.ExecContext(ctx, "DELETE FROM runs"); err == nil {
		t.Fatal("a read-only handle wrote")
	}
	if _, err := r.BeginRun(ctx, RunInfo{}, IngestOptions{}); err == nil {
		t.Fatal("a read-only handle started a run")
	}
	xs := synthExchanges(3000)
	var wg sync.WaitGroup
	done := make(chan struct{})
	var reads int
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		var last uint64
		for {
			select {
			case <-done:
				return
			default:
			}
			eps, err := r.Endpoints(ctx, "")
			if err != nil {
				readErr = err
				return
			}
			var n uint64
			for _, e := range eps {
				n += e.Count
			}
			if n < last {
				readErr = errorf("inventory shrank from %d to %d requests", last, n)
				return
			}
			last = n
			if _, err := r.Model(ctx); err != nil {
				readErr = err
				return
			}
			reads++
		}
	}()
	ingest(t, w, 50, xs)
	close(done)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	if reads == 0 {
		t.Fatal("the reader never read")
	}
	eps, err := r.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, e := range eps {
		n += e.Count
	}
	if n != uint64(len(xs)) {
		t.Errorf("reader sees %d requests after the run, want %d", n, len(xs))
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, "p.db")
	old := synthExchangesAt(200, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "old.example.test")
	recent := synthExchangesAt(200, time.Now().Add(-time.Hour), "new.example.test")
	ingest(t, db, 1000, old)
	ingest(t, db, 1000, recent)
	// The first run is old.
	if _, err := db.sql.Exec("UPDATE runs SET started_at = '2020-01-02T00:00:00Z', finished_at = '2020-01-02T00:00:00Z' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	before, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.Prune(ctx, time.Now().Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if st.Runs != 1 || st.Examples == 0 || st.Latencies == 0 {
		t.Errorf("prune stats %+v", st)
	}
	after, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("prune lost endpoints: %d -> %d", len(before), len(after))
	}
	for i := range after {
		a, b := after[i], before[i]
		if a.Template != b.Template || a.Count != b.Count || !a.FirstSeen.Equal(b.FirstSeen) || !a.LastSeen.Equal(b.LastSeen) ||
			mustJSON(t, a.Statuses) != mustJSON(t, b.Statuses) || mustJSON(t, a.Auth) != mustJSON(t, b.Auth) {
			t.Errorf("endpoint history changed:\nbefore %+v\nafter  %+v", b, a)
		}
		old := strings.HasPrefix(a.Service, "old.")
		if old && a.Latency != (infer.Latency{}) {
			t.Errorf("old endpoint kept its latency: %+v", a)
		}
		if !old && a.Latency != b.Latency {
			t.Errorf("recent endpoint lost its latency: %+v", a)
		}
	}
	m, err := db.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if doc := exportExamples(t, m); !strings.Contains(doc, "new.example.test") || strings.Count(doc, "example:") == 0 {
		t.Error("recent examples gone")
	}
	oldDoc, err := m.OpenAPI("old.example.test", infer.ExportOptions{Examples: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := oldDoc.MarshalJSON()
	if strings.Contains(string(raw), `"example"`) {
		t.Error("old examples kept")
	}
	runs, err := db.Runs(ctx)
	if err != nil || len(runs) != 1 || runs[0].ID != 2 {
		t.Errorf("runs after prune: %+v %v", runs, err)
	}
}

// TestNoSecrets: credentials and sensitive values sent in the traffic are
// nowhere in the database file's bytes.
func TestNoSecrets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	xs := secretExchanges(300)
	ingest(t, db, 64, xs)
	// The model did see the secrets as sensitive data.
	eps, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, e := range eps {
		tags = append(tags, e.Sensitive...)
		tags = append(tags, e.Auth...)
	}
	joined := strings.Join(tags, ",")
	for _, want := range []string{"email", "card"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %q tag in %q: the traffic did not carry what the test greps for", want, joined)
		}
	}
	db.Close()
	var data []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err == nil {
			data = append(data, b...)
		}
	}
	if len(data) == 0 {
		t.Fatal("empty database")
	}
	for _, secret := range []string{secretToken, secretEmail, secretCard, secretCardDigits, secretAPIKey} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the database holds %q", secret)
		}
	}
}

func TestRunsStatus(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, db, 10, synthExchanges(20))
	// The reader's counters as the run goes: 7 packets of 100 bytes per
	// exchange observed.
	var observed uint64
	progress := func() (uint64, uint64) { return 7 * observed, 700 * observed }
	in, err := db.BeginRun(ctx, RunInfo{Inputs: []string{"x.pcap"}}, IngestOptions{Every: 5, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range synthExchanges(12) {
		observed++
		in.Observe(x)
	}
	// A run of a process that is gone: pid 0 never runs a writer.
	if _, err := db.sql.Exec("UPDATE runs SET pid = 0 WHERE id = ?", in.ID()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Status != StatusComplete || runs[1].Status != StatusIncomplete || runs[1].Exchanges != 10 {
		t.Fatalf("runs: %+v", runs)
	}
	// The last checkpoint (at 10 exchanges) recorded the input read by then.
	if runs[1].Packets != 70 || runs[1].Bytes != 7000 {
		t.Errorf("killed run: %d packets, %d bytes recorded, want 70 and 7000", runs[1].Packets, runs[1].Bytes)
	}
	eps, err := db.Endpoints(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, e := range eps {
		n += e.Count
	}
	if n != 30 { // 20 of the first run, 10 checkpointed of the second
		t.Errorf("%d requests stored, want 30", n)
	}
}

// TestCorruptState: state rows that decode but would trip the inference
// code, or do not decode, are errors naming the service, never panics; the
// summary rows still list.
func TestCorruptState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, state, want string }{
		{"not json", `{"trie":`, "decoding state"},
		{"no trie", `{"name":"x","count":1,"ops":[]}`, "no path trie"},
		{"null node", `{"trie":{"root":{"n":1,"c":{"a":null}}},"ops":[]}`, `[a]: null`},
		{"null op", `{"trie":{"root":{"n":1}},"ops":[null]}`, "operation 0: null"},
		{"null param schema", `{"trie":{"root":{"n":1}},"ops":[{"method":"GET","query":{"q":{"count":1,"schema":null}}}]}`, `parameter "q" has no schema`},
		{"null schema prop", `{"trie":{"root":{"n":1}},"ops":[{"method":"GET","requests":{"application/json":{"count":1,"schema":{"props":{"a":null}}}}}]}`, `[a]: null`},
		{"wrong type", `{"trie":{"root":{"n":"many"}},"ops":[]}`, "decoding state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTemp(t, "c.db")
			ingest(t, db, 100, synthExchanges(20))
			if _, err := db.sql.Exec("UPDATE services SET state = ?", tc.state); err != nil {
				t.Fatal(err)
			}
			_, err := db.Model(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "api.example.test") {
				t.Errorf("Model: %v, want an error with %q naming the service", err, tc.want)
			}
			in, err := db.BeginRun(ctx, RunInfo{}, IngestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range synthExchanges(5) {
				in.Observe(x)
			}
			if err := in.Finish(ctx, RunTotals{Complete: true}); err == nil {
				t.Error("a checkpoint merged into corrupt state")
			}
			if eps, err := db.Endpoints(ctx, ""); err != nil || len(eps) == 0 {
				t.Errorf("summary rows: %v, %v", eps, err)
			}
			runs, err := db.Runs(ctx)
			if err != nil || runs[len(runs)-1].Status != StatusIncomplete {
				t.Errorf("the failed run: %+v, %v", runs, err)
			}
		})
	}
}

// TestRecordedConfig: a run's config is recorded, and readers and later
// runs that give none decide templates with it.
func TestRecordedConfig(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cfg.db")
	cfg := infer.Config{Services: []infer.ServiceConfig{{Host: "api.example.test", Templates: []string{"/v1/{kind}"}}}}
	db, err := Open(ctx, path, Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, db, 10, synthExchanges(40))
	db.Close()
	has := func(eps []infer.EndpointSummary, tmpl string) bool {
		for _, e := range eps {
			if e.Template == tmpl {
				return true
			}
		}
		return false
	}
	r, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := r.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if eps := m.Endpoints(); !has(eps, "/v1/{kind}") || has(eps, "/v1/health") {
		t.Errorf("the recorded config was not used: %s", mustJSON(t, eps))
	}
	// Without it the literal path would stand: the test can fail.
	plain := infer.NewModel(infer.Config{})
	for _, x := range synthExchanges(40) {
		plain.Observe(x)
	}
	if !has(plain.Endpoints(), "/v1/health") {
		t.Fatal("the synthetic traffic has no /v1/health")
	}
}

// TestTruncatedFile: a database cut in half opens with an error or reports
// the damage (integrity check, queries), never panics.
func TestTruncatedFile(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, "full.db")
	ingest(t, db, 50, synthExchanges(400))
	db.Close()
	data, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, frac := range []int{2, 3, 5} {
		path := filepath.Join(t.TempDir(), "cut.db")
		if err := os.WriteFile(path, data[:len(data)/frac], 0o600); err != nil {
			t.Fatal(err)
		}
		cut, err := Open(ctx, path, Options{})
		if err != nil {
			continue // a clear error: fine
		}
		var problems []string
		if got, err := cut.IntegrityCheck(ctx); err != nil || got != "ok" {
			problems = append(problems, "integrity")
		}
		if _, err := cut.Model(ctx); err != nil {
			problems = append(problems, "model")
		}
		if _, err := cut.Endpoints(ctx, ""); err != nil {
			problems = append(problems, "endpoints")
		}
		cut.Close()
		if len(problems) == 0 {
			t.Errorf("1/%d of the file: no damage reported", frac)
		}
	}
}

// TestModelDrops: exchanges dropped by the model's limits (services, the
// byte budget) count as drops of the run.
func TestModelDrops(t *testing.T) {
	cases := []struct {
		name   string
		limits infer.Limits
		want   uint64
	}{
		{"one service", infer.Limits{MaxServices: 1}, 2 + 7},
		// Over budget from the first service on: no operation is made.
		{"byte budget", infer.Limits{MaxBytes: 1}, 2 + 10 + 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := Open(ctx, Memory, Options{Config: infer.Config{Limits: c.limits}})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			xs := append(synthExchanges(10), synthExchangesAt(7, time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), "other.example.test")...)
			in, err := db.BeginRun(ctx, RunInfo{}, IngestOptions{Every: 4})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range xs {
				in.Observe(x)
			}
			if err := in.Finish(ctx, RunTotals{Drops: 2, Complete: true}); err != nil {
				t.Fatal(err)
			}
			runs, err := db.Runs(ctx)
			if err != nil || len(runs) != 1 || runs[0].Drops != c.want {
				t.Errorf("runs %+v, %v; want %d drops", runs, err, c.want)
			}
		})
	}
}
