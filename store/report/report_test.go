package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/infer/operations"
	"github.com/specter-dev/specter/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestDataGolden(t *testing.T) {
	db, specs := shopDB(t)
	d := Build(loadWithSpecs(t, db, specs))
	checkGolden(t, "shop.data.golden.json", d)
	// Facts the golden file must keep showing, whatever else changes.
	kinds := map[diff.Kind]int{}
	for _, f := range d.Findings {
		kinds[f.Kind]++
	}
	for _, k := range []diff.Kind{diff.KindShadow, diff.KindZombie, diff.KindUnused} {
		if kinds[k] == 0 {
			t.Errorf("no %s finding in %v", k, kinds)
		}
	}
	if d.Summary.Services != 2 || d.Traffic.Buckets() == 0 || d.NewEndpoints.Series[0].Total != uint64(d.Summary.Endpoints) {
		t.Errorf("summary %+v, traffic %d buckets, new endpoints %+v", d.Summary, d.Traffic.Buckets(), d.NewEndpoints.Series)
	}
}

// checkGolden compares the data section d with testdata/name, or
// rewrites the file with -update.
func checkGolden(t *testing.T, name string, d *Data) {
	t.Helper()
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("data section differs from %s (go test -run %s -update rewrites it), -want +got:\n%s", golden, t.Name(), cmp.Diff(string(want), string(got)))
	}
}

// render returns the page of in.
func render(t testing.TB, in Input, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, Build(in), opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pageProblems parses a page and lists what would run code or fetch
// anything: elements that are not the page's own, event-handler
// attributes, scripts other than the embedded one, links and sources
// that are not in-page anchors or data: URLs.
func pageProblems(t testing.TB, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var probs []string
	scripts := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "img", "iframe", "object", "embed", "base", "form", "image", "use", "foreignobject":
				probs = append(probs, "element <"+n.Data+">")
			case "script":
				scripts++
				if n.FirstChild == nil || n.FirstChild.Data != script {
					probs = append(probs, "a script that is not the embedded one")
				}
			}
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(k, "on"):
					probs = append(probs, fmt.Sprintf("attribute %s on <%s>", a.Key, n.Data))
				case k == "src" || k == "href" || k == "action" || k == "xlink:href" || k == "formaction" || k == "srcset":
					if !strings.HasPrefix(a.Val, "#") && !strings.HasPrefix(a.Val, "data:") {
						probs = append(probs, fmt.Sprintf("%s=%q on <%s>", a.Key, a.Val, n.Data))
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if scripts != 1 {
		probs = append(probs, fmt.Sprintf("%d script elements, want 1", scripts))
	}
	return probs
}

func TestEscaping(t *testing.T) {
	db, specs := shopDB(t)
	in := loadWithSpecs(t, db, specs)
	// A finding whose every text field is hostile, as a corrupt or
	// malicious database could hold.
	in.Findings = append(in.Findings, diff.Finding{Kind: diff.KindShadow, Rule: xssAttr, Service: xssScript, Host: xssAttr,
		Method: xssAttr, Path: "/" + xssScript, Severity: diff.Severity(xssAttr), Count: 1, Reason: xssScript, Pointer: xssAttr,
		Example: &diff.Example{Request: "GET /" + xssScript, Status: 200, Body: xssAttr}, Spec: xssAttr, SpecLine: 3,
		OperationID: xssScript, Fingerprint: xssAttr})
	in.Endpoints = append(in.Endpoints, infer.EndpointSummary{Service: xssAttr, Method: xssScript, Template: "/" + xssAttr,
		Count: 1, Auth: []string{xssScript}, Sensitive: []string{xssAttr}, Statuses: map[int]uint64{200: 1},
		Operations: []operations.Summary{{Protocol: operations.GraphQL, Type: xssAttr, Name: "op" + xssScript, Count: 1,
			Fields: []string{xssAttr}, Variables: []string{"$" + xssScript}, Hashes: []string{xssAttr}}}})
	in.Title = xssAttr
	for _, opts := range []Options{{}, {Version: xssAttr, Refresh: 5 * time.Second, HaveSpecs: true}} {
		page := render(t, in, opts)
		for _, p := range pageProblems(t, page) {
			t.Error(p)
		}
		s := string(page)
		for _, raw := range []string{xssScript, xssAttr, "<img", "<script>document"} {
			if strings.Contains(s, raw) {
				t.Errorf("page contains %q unescaped", raw)
			}
		}
		// The values are there, escaped: a query name and a body key.
		for _, esc := range []string{"&#34;&gt;&lt;img src=x onerror=document", "q&lt;script&gt;document.documentElement",
			"op&lt;script&gt;document.documentElement", "$&lt;script&gt;document.documentElement"} {
			if !strings.Contains(s, esc) {
				t.Errorf("page lacks the escaped value %q", esc)
			}
		}
	}
}

func TestNoNetwork(t *testing.T) {
	db, specs := shopDB(t)
	page := string(render(t, loadWithSpecs(t, db, specs), Options{}))
	if !strings.Contains(page, `http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;`) {
		t.Error("no Content-Security-Policy meta tag forbidding fetches")
	}
	for _, bad := range []string{"http://", "https://", "//cdn", "@import", "url("} {
		if i := strings.Index(page, bad); i >= 0 && !insideText(page, i) {
			t.Errorf("page references %q at %d: %q", bad, i, page[max(i-60, 0):min(i+60, len(page))])
		}
	}
}

// insideText reports whether offset i of page is in text content rather
// than in a tag (traffic values such as URLs in examples are text).
func insideText(page string, i int) bool {
	lt := strings.LastIndex(page[:i], "<")
	gt := strings.LastIndex(page[:i], ">")
	return gt > lt
}

func TestDeterministic(t *testing.T) {
	db, specs := shopDB(t)
	in := loadWithSpecs(t, db, specs)
	a := render(t, in, Options{})
	r := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		r.Shuffle(len(in.Endpoints), func(i, j int) { in.Endpoints[i], in.Endpoints[j] = in.Endpoints[j], in.Endpoints[i] })
		r.Shuffle(len(in.Findings), func(i, j int) { in.Findings[i], in.Findings[j] = in.Findings[j], in.Findings[i] })
		if b := render(t, in, Options{}); !bytes.Equal(a, b) {
			t.Fatalf("the page changed with the input order, -first +now:\n%s", cmp.Diff(string(a), string(b)))
		}
	}
}

func TestBounds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	many := func(n int) []infer.EndpointSummary {
		out := make([]infer.EndpointSummary, n)
		for i := range out {
			out[i] = infer.EndpointSummary{Service: fmt.Sprintf("s%d.test", i%3), Method: "GET", Template: fmt.Sprintf("/r/%d", i),
				Count: uint64(i + 1), FirstSeen: t0.Add(time.Duration(i) * time.Minute), LastSeen: t0.Add(time.Duration(i) * time.Minute),
				Sensitive: []string{"email"}}
		}
		return out
	}
	findings := func(n int) []diff.Finding {
		out := make([]diff.Finding, n)
		for i := range out {
			out[i] = diff.Finding{Kind: diff.KindShadow, Severity: diff.SeverityHigh, Service: "s0.test", Method: "GET",
				Path: fmt.Sprintf("/r/%d", i), Fingerprint: fmt.Sprint(i)}
		}
		return out
	}
	var traffic []store.TrafficWindow
	for i := range 20 {
		traffic = append(traffic, store.TrafficWindow{Service: fmt.Sprintf("svc%02d", i), Start: t0.Add(time.Duration(i) * time.Hour * 24 * 365), Exchanges: uint64(i + 1)})
	}
	for _, tc := range []struct {
		name  string
		in    Input
		check func(*Data) error
	}{
		{"tree rows", Input{Endpoints: many(MaxTreeRows + 7)}, func(d *Data) error {
			n := 0
			for _, s := range d.Services {
				n += len(s.Endpoints)
			}
			if n != MaxTreeRows || d.Omitted.TreeRows != 7 {
				return fmt.Errorf("%d rows, %d omitted", n, d.Omitted.TreeRows)
			}
			return nil
		}},
		{"matrix rows", Input{Endpoints: many(MaxMatrixRows + 3)}, func(d *Data) error {
			if len(d.Sensitive.Rows) != MaxMatrixRows || d.Omitted.MatrixRows != 3 {
				return fmt.Errorf("%d rows, %d omitted", len(d.Sensitive.Rows), d.Omitted.MatrixRows)
			}
			return nil
		}},
		{"findings", Input{Findings: findings(MaxFindings + 2)}, func(d *Data) error {
			if len(d.Findings) != MaxFindings || d.Omitted.Findings != 2 {
				return fmt.Errorf("%d findings, %d omitted", len(d.Findings), d.Omitted.Findings)
			}
			return nil
		}},
		{"details", Input{Endpoints: many(MaxDetails + 9), Model: infer.NewModel(infer.Config{})}, func(d *Data) error {
			if len(d.Details) != MaxDetails || d.Omitted.Details != 9 {
				return fmt.Errorf("%d details, %d omitted", len(d.Details), d.Omitted.Details)
			}
			// The busiest are detailed: the 9 least busy are not.
			for _, x := range d.Details {
				if x.Count < 10 {
					return fmt.Errorf("detail of %s with count %d, want the busiest", x.Template, x.Count)
				}
			}
			return nil
		}},
		{"series and buckets over 19 years", Input{Traffic: traffic}, func(d *Data) error {
			if len(d.Traffic.Series) != MaxSeries || d.Traffic.Series[MaxSeries-1].Name != "other" || d.Traffic.Buckets() > MaxBuckets {
				return fmt.Errorf("%d series, %d buckets", len(d.Traffic.Series), d.Traffic.Buckets())
			}
			var sum, want uint64
			for _, s := range d.Traffic.Series {
				sum += s.Total
			}
			for _, w := range traffic {
				want += w.Exchanges
			}
			if sum != want {
				return fmt.Errorf("series total %d, want %d", sum, want)
			}
			return nil
		}},
		{"skewed clock", Input{Traffic: []store.TrafficWindow{{Service: "a", Start: time.Unix(0, 0).AddDate(-1000, 0, 0), Exchanges: 1},
			{Service: "a", Start: t0, Exchanges: 2}}}, func(d *Data) error {
			if d.Traffic.Buckets() > MaxBuckets || d.Traffic.Bucket <= 0 || d.Traffic.Series[0].Total != 3 {
				return fmt.Errorf("%d buckets of %v, total %d", d.Traffic.Buckets(), d.Traffic.Bucket, d.Traffic.Series[0].Total)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Build(tc.in)
			if err := tc.check(d); err != nil {
				t.Error(err)
			}
			var buf bytes.Buffer
			if err := Render(&buf, d, Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLoadPartialModel checks that Load, which decodes only the services
// with detailed endpoints, gives the page LoadAll gives.
func TestLoadPartialModel(t *testing.T) {
	db, _ := shopDB(t)
	part, err := Load(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	all, err := LoadAll(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	a, b := render(t, part, Options{}), render(t, all, Options{})
	if !bytes.Equal(a, b) {
		t.Errorf("Load and LoadAll pages differ, -LoadAll +Load:\n%s", cmp.Diff(string(b), string(a)))
	}
	if len(Build(part).Details) == 0 {
		t.Error("no detail sections")
	}
}
