package diff

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// exch builds an exchange; hdr is "Name: value" lines, resp "STATUS
// content-type body" (empty: no response).
func exch(i int, host, method, target, hdr, body string, status int, ctype, rbody string) *reassembly.Exchange {
	path, q, _ := strings.Cut(target, "?")
	h := http.Header{}
	for _, l := range strings.Split(hdr, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			h.Add(k, v)
		}
	}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	when := t0.Add(time.Duration(i) * time.Second)
	x := &reassembly.Exchange{Request: &message.Request{
		Method: method, Target: target, Path: path, RawQuery: q, Proto: "HTTP/1.1", Authority: host,
		Header: h, Body: message.NewBody([]byte(body), 0), Start: when, End: when,
	}}
	if status != 0 {
		rh := http.Header{}
		if ctype != "" {
			rh.Set("Content-Type", ctype)
		}
		x.Response = &message.Response{Proto: "HTTP/1.1", StatusCode: status, Header: rh, Body: message.NewBody([]byte(rbody), 0), Start: when, End: when}
	}
	return x
}

const bearer = "Authorization: Bearer abc.def.ghi"

// petTraffic exercises every kind of finding against testdata/pets.yaml.
func petTraffic() []*reassembly.Exchange {
	const h = "pets.test"
	xs := []*reassembly.Exchange{
		exch(0, h, "GET", "/api/v3/pets?limit=10", bearer, "", 200, "application/json", `[{"id":1,"name":"a"}]`),
		exch(1, h, "GET", "/api/v3/pets?limit=abc", bearer, "", 200, "application/json", `[]`),
		exch(2, h, "GET", "/api/v3/pets?limit=10&debug=1", bearer, "", 200, "application/json", `[]`),
		exch(3, h, "POST", "/api/v3/pets", bearer, `{"id":2}`, 201, "", ""),
		exch(4, h, "GET", "/api/v3/pets", "", "", 200, "application/json", `[]`),
		exch(5, h, "GET", "/api/v3/pets/mine", "", "", 200, "", ""),
		exch(6, h, "DELETE", "/api/v3/pets/5", bearer, "", 204, "", ""),
		exch(7, h, "GET", "/api/v3/pets/5", bearer, "", 500, "", ""),
		exch(8, h, "GET", "/api/v3/pets/6", bearer, "", 200, "text/html", "<html></html>"),
		exch(9, h, "GET", "/api/v3/pets/7", bearer, "", 200, "application/json", `{"id":"x","name":"n"}`),
		exch(10, h, "PUT", "/api/v3/pets/5", bearer, `{"name":"b"}`, 200, "", ""),
		exch(11, h, "GET", "/api/v3/admin/users/101", bearer, "", 200, "", ""),
		exch(12, h, "GET", "/api/v3/admin/users/202", bearer, "", 200, "", ""),
		exch(13, h, "GET", "/api/v3/admin/users/303", bearer, "", 200, "", ""),
		exch(14, h, "GET", "/api/v3/pets/search?q=cat", bearer, "", 200, "application/json", `{}`),
		exch(15, h, "GET", "/api/v3/pets/search?q=dog", bearer, "", 200, "application/json", `{}`),
		exch(16, "other.test", "GET", "/x", "", "", 200, "", ""),
		exch(17, h, "POST", "/api/v3/pets", bearer, `{"id":3,"name":"c"}`, 201, "", ""),
	}
	return xs
}

var paramRE = regexp.MustCompile(`\{[^}]*\}`)

func summarize(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s %s %d", f.Kind, f.Rule, f.Method, paramRE.ReplaceAllString(f.Path, "{}"), f.Count))
	}
	sort.Strings(out)
	return out
}

func TestCheckerFindings(t *testing.T) {
	c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
	for _, x := range petTraffic() {
		c.Check(x)
	}
	got := summarize(c.Findings())
	want := []string{
		"auth_mismatch unauthenticated-2xx GET /api/v3/pets 1",
		"noncompliant_request body/name:required POST /api/v3/pets 1",
		"noncompliant_request query.limit:parse GET /api/v3/pets 1",
		"noncompliant_request query:undeclared GET /api/v3/pets 1",
		"noncompliant_response content-type:200 GET /api/v3/pets/{} 1",
		"noncompliant_response response.body/id:type GET /api/v3/pets/{} 1",
		"noncompliant_response status:500 GET /api/v3/pets/{} 1",
		"shadow undeclared-method PUT /api/v3/pets/{} 1",
		"shadow undeclared-path GET /api/v3/admin/users/{} 3",
		"shadow undeclared-path GET /api/v3/pets/search 2",
		"unused no-traffic GET /api/v3/owners/{}/pets 1",
		"unused no-traffic GET /api/v3/pets/{}/photos/{}.jpg 1",
		"zombie deprecated DELETE /api/v3/pets/{} 1",
	}
	// unused findings carry no exchanges: count 0.
	for i, w := range want {
		if strings.HasPrefix(w, "unused") {
			want[i] = strings.TrimSuffix(w, "1") + "0"
		}
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st := c.Stats()
	if st.Exchanges != 18 || st.NoSpec != 1 {
		t.Errorf("stats = %+v", st)
	}
	for _, f := range c.Findings() {
		if f.Fingerprint == "" || f.Severity == "" || f.Reason == "" || f.Host != "pets.test" {
			t.Errorf("incomplete finding %+v", f)
		}
		if f.Kind != KindUnused && (f.Example == nil || f.FirstSeen.IsZero()) {
			t.Errorf("%s %s %s: no example or time", f.Kind, f.Method, f.Path)
		}
		if f.Example != nil && strings.Contains(f.Example.Request+f.Example.Body, "abc.def.ghi") {
			t.Errorf("example leaks the credential: %+v", f.Example)
		}
	}
}

// Requests that conform produce no finding but unused ones.
func TestCheckerConforming(t *testing.T) {
	const h = "pets.test"
	c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
	for _, x := range []*reassembly.Exchange{
		exch(0, h, "GET", "/api/v3/pets?limit=10", bearer, "", 200, "application/json", `[{"id":1,"name":"a"}]`),
		exch(1, h, "POST", "/api/v3/pets", bearer, `{"name":"b"}`, 201, "", ""),
		exch(2, h, "GET", "/api/v3/pets/mine", "", "", 200, "", ""),
		exch(3, h, "GET", "/api/v3/pets/12", bearer, "", 200, "application/json; charset=utf-8", `{"id":12,"name":"c"}`),
		exch(4, h, "GET", "/api/v3/pets/13", bearer, "", 404, "", ""),
		exch(5, h, "GET", "/api/v3/pets/12/photos/a1.jpg", bearer, "", 200, "image/jpeg", "JFIF"),
		exch(6, h, "GET", "/api/v3/owners/ann/pets", bearer, "", 200, "", ""),
		exch(7, h, "HEAD", "/api/v3/pets/mine", "", "", 200, "", ""), // HEAD: undeclared method
	} {
		c.Check(x)
	}
	for _, f := range c.Findings() {
		if f.Kind == KindShadow && f.Method == "HEAD" {
			continue
		}
		if f.Kind != KindUnused {
			t.Errorf("unexpected finding %s %s %s %s: %s", f.Kind, f.Rule, f.Method, f.Path, f.Reason)
		}
	}
}

func TestFingerprintsStableAndMerge(t *testing.T) {
	specs := []*Spec{mustSpec(t, "pets.yaml")}
	xs := petTraffic()
	a, b := NewChecker(specs, Options{}), NewChecker(specs, Options{})
	for i := range xs {
		a.Check(xs[i])
		b.Check(xs[len(xs)-1-i])
	}
	fa, fb := a.Findings(), b.Findings()
	fpa, fpb := map[string]Finding{}, map[string]Finding{}
	for _, f := range fa {
		fpa[f.Fingerprint] = f
	}
	for _, f := range fb {
		fpb[f.Fingerprint] = f
	}
	if len(fpa) != len(fa) || len(fpa) != len(fpb) {
		t.Fatalf("fingerprints: %d findings, %d distinct, other order %d", len(fa), len(fpa), len(fpb))
	}
	for fp, f := range fpa {
		g, ok := fpb[fp]
		if !ok || g.Count != f.Count || !g.FirstSeen.Equal(f.FirstSeen) {
			t.Errorf("%s %s %s: other order gives %+v", f.Kind, f.Method, f.Path, g)
		}
	}
	m := Merge(fa, fb)
	if len(m) != len(fa) {
		t.Fatalf("merged %d findings, want %d", len(m), len(fa))
	}
	for _, f := range m {
		if f.Count != 2*fpa[f.Fingerprint].Count {
			t.Errorf("%s: merged count %d, want %d", f.Fingerprint, f.Count, 2*fpa[f.Fingerprint].Count)
		}
	}
	if got := Suppress(fa, fb[:3]); len(got) != len(fa)-3 {
		t.Errorf("Suppress kept %d of %d with 3 known", len(got), len(fa))
	}
}

func TestCheckerBounds(t *testing.T) {
	specs := []*Spec{mustSpec(t, "pets.yaml")}
	c := NewChecker(specs, Options{MaxFindings: 1, SampleAfter: 1, SampleEvery: 1000})
	for i := 0; i < 50; i++ {
		c.Check(exch(i, "pets.test", "GET", fmt.Sprintf("/api/v3/pets?limit=abc&u%d=1", i), bearer, "", 200, "application/json", "[]"))
	}
	st := c.Stats()
	if st.DroppedFindings == 0 || len(c.findings) > 1 {
		t.Errorf("findings %d, dropped %d: MaxFindings not enforced", len(c.findings), st.DroppedFindings)
	}
	// Requests always; responses: the first, then the first of each SampleEvery.
	if st.Validated != 50 || st.Responses != 2 || st.Sampled != 48 {
		t.Errorf("validated %d, responses %d, sampled %d: want 50, 2, 48", st.Validated, st.Responses, st.Sampled)
	}

	// Requests of a shape that validated clean: one in SampleEvery (20).
	c = NewChecker(specs, Options{})
	for i := 0; i < 25; i++ {
		c.Check(exch(i, "pets.test", "POST", "/api/v3/pets", bearer, fmt.Sprintf(`{"id":%d,"name":"n%d"}`, i, i), 201, "", ""))
	}
	c.Check(exch(30, "pets.test", "POST", "/api/v3/pets", bearer, `{"id":1}`, 201, "", ""))
	if st := c.Stats(); st.Validated != 3 || st.RequestsSampled != 23 {
		t.Errorf("validated %d, sampled %d requests: want 3 (first, 21st, the new shape) and 23", st.Validated, st.RequestsSampled)
	}
	if fs := c.Findings(); len(fs) == 0 || fs[0].Rule != "body/name:required" {
		t.Errorf("the request of a new shape was not validated: %v", summarize(fs))
	}

	// The response budget: a burst of 2, then one per 10 exchanges.
	c = NewChecker(specs, Options{SampleAfter: 1000, ResponseEvery: 10, ResponseBurst: 2})
	for i := 0; i < 50; i++ {
		c.Check(exch(i, "pets.test", "GET", "/api/v3/pets", bearer, "", 200, "application/json", "[]"))
	}
	if st := c.Stats(); st.Responses != 2+(50-2)/10 {
		t.Errorf("responses validated %d, want %d", st.Responses, 2+(50-2)/10)
	}
}

func TestInventory(t *testing.T) {
	specs := []*Spec{mustSpec(t, "pets.yaml")}
	m := infer.NewModel(infer.Config{})
	for _, s := range specs {
		m.SetPrior(s.Doc, s.Hosts[0])
	}
	for _, x := range petTraffic() {
		m.Observe(x)
	}
	var got []string
	for _, f := range Inventory(m, specs) {
		got = append(got, fmt.Sprintf("%s %s %s %s", f.Kind, f.Rule, f.Method, paramRE.ReplaceAllString(f.Path, "{}")))
	}
	sort.Strings(got)
	want := []string{
		"shadow undeclared-method PUT /api/v3/pets/{}",
		"shadow undeclared-path GET /api/v3/admin/users/{}",
		"unused no-traffic GET /api/v3/owners/{}/pets",
		"unused no-traffic GET /api/v3/pets/{}/photos/{}.jpg",
		"zombie deprecated DELETE /api/v3/pets/{}",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("inventory:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCheckNoPanicOnOddExchanges(t *testing.T) {
	c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
	c.Check(nil)
	c.Check(&reassembly.Exchange{Response: &message.Response{StatusCode: 200}})
	c.Check(&reassembly.Exchange{Request: &message.Request{Method: "GET", Path: "", Authority: "pets.test"}})
	c.Check(&reassembly.Exchange{Request: &message.Request{Method: "\x00", Path: "api/v3/pets", Authority: "pets.test", RawQuery: "%zz&a=%"}})
	c.Check(&reassembly.Exchange{Request: &message.Request{Method: "POST", Path: "/api/v3/pets", Authority: "pets.test", Body: message.NewBody([]byte("{not json"), 0),
		Header: http.Header{"Content-Type": {"application/json"}}}, Response: &message.Response{StatusCode: 201}})
	_ = c.Findings()
}

// Without the spec as a prior (as analyze --db builds the inventory), the
// words the inference keeps apart from the ids under a declared parameter
// (/pets/search beside /pets/{petId}) are undeclared paths; /pets/mine is
// declared as such.
func TestInventoryWithoutPriors(t *testing.T) {
	specs := []*Spec{mustSpec(t, "pets.yaml")}
	m := infer.NewModel(infer.Config{})
	for _, x := range petTraffic() {
		m.Observe(x)
	}
	var got []string
	for _, f := range Inventory(m, specs) {
		if f.Kind == KindShadow {
			got = append(got, fmt.Sprintf("%s %s %s", f.Rule, f.Method, paramRE.ReplaceAllString(f.Path, "{}")))
		}
	}
	sort.Strings(got)
	want := []string{
		"undeclared-method PUT /api/v3/pets/{}",
		"undeclared-path GET /api/v3/admin/users/{}",
		"undeclared-path GET /api/v3/pets/search",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("shadow findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
