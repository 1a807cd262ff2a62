package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// probeScript drives the page's filter and sort as a user would and
// writes the tree's rows after each step into <pre id="probe">: "+" or
// "-" (shown, hidden), the row's class and its first cell.
const probeScript = `(function () {
  var q = document.getElementById("filter");
  var out = {};
  var state = function () {
    return Array.prototype.map.call(document.querySelectorAll("#tree tbody tr"), function (tr) {
      return (tr.hidden ? "-" : "+") + tr.className + " " + tr.children[0].textContent.trim();
    });
  };
  var filter = function (s) { q.value = s; q.dispatchEvent(new Event("input")); return state(); };
  out.operation = filter("addreview");
  out.endpoint = filter("/rpc");
  out.none = filter("");
  var th = document.querySelector('#tree th[data-col="2"]');
  th.click(); th.click();
  out.ascending = state();
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();`

// TestChromiumOperations: in a browser, filtering by an operation's name
// shows it under its endpoint and hides the rest; filtering by an
// endpoint shows all its operations; sorting keeps each operation under
// its endpoint.
func TestChromiumOperations(t *testing.T) {
	bin := chromium(t)
	db := ingestDB(t, filepath.Join(t.TempDir(), "rpc.db"), nil, rpcTraffic(t, "m"+xssScript))
	in, err := Load(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	page := string(render(t, in, Options{}))
	// The probe runs after the page's script: the policy allows it too.
	sum := sha256.Sum256([]byte(probeScript))
	hash := base64.StdEncoding.EncodeToString(sum[:])
	const policy, body = "script-src &#39;sha256-", "</body>"
	if !strings.Contains(page, policy) || !strings.Contains(page, body) {
		t.Fatalf("page lacks %q or %q", policy, body)
	}
	page = strings.Replace(page, policy, "script-src &#39;sha256-"+hash+"&#39; &#39;sha256-", 1)
	page = strings.Replace(page, body, "<script>"+probeScript+"</script>"+body, 1)
	var log requestLog
	srv := log.server([]byte(page))
	defer srv.Close()
	dom := runChromium(t, bin, "--virtual-time-budget=3000", "--dump-dom", srv.URL+"/report.html")
	if bytes.Contains(dom, []byte("data-pwned=")) {
		t.Error("markup from traffic ran: the document is marked")
	}
	var probe map[string][]string
	if err := json.Unmarshal([]byte(probeText(t, dom)), &probe); err != nil {
		t.Fatalf("probe: %v", err)
	}
	shown := func(step string) []string {
		var out []string
		for _, r := range probe[step] {
			if strings.HasPrefix(r, "+") {
				out = append(out, r[1:])
			}
		}
		return out
	}
	for step, want := range map[string][]string{
		"operation": {"ep /graphql", "op GraphQL mutation AddReview"},
		"endpoint":  {"ep /rpc", "op JSON-RPC method m" + xssScript, "op JSON-RPC method user.get"},
	} {
		if got := shown(step); !slices.Equal(got, want) {
			t.Errorf("filter %s: shown %q, want %q", step, got, want)
		}
	}
	if n := len(shown("none")); n != len(probe["none"]) || n != 9 {
		t.Errorf("empty filter shows %d of %d rows, want all 9", n, len(probe["none"]))
	}
	// Ascending by requests: /soap (3), /rpc (40), /graphql (41), each
	// followed by its operations.
	of := map[string]string{"GetPrice": "/soap", "user.get": "/rpc", "script": "/rpc", "AddReview": "/graphql", "Hero": "/graphql", "IntrospectionQuery": "/graphql"}
	var eps []string
	for _, r := range shown("ascending") {
		cls, text, _ := strings.Cut(r, " ")
		if cls == "ep" {
			eps = append(eps, text)
			continue
		}
		found := false
		for name, ep := range of {
			if strings.Contains(text, name) {
				found = true
				if len(eps) == 0 || eps[len(eps)-1] != ep {
					t.Errorf("after sorting, %q is under %v, want under %s", text, eps, ep)
				}
			}
		}
		if !found {
			t.Errorf("unexpected row %q", r)
		}
	}
	if want := []string{"/soap", "/rpc", "/graphql"}; !slices.Equal(eps, want) {
		t.Errorf("sorted endpoints %q, want %q", eps, want)
	}
}

// probeText is the text of <pre id="probe"> in dom.
func probeText(t *testing.T, dom []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	var found *html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "pre" && slices.Contains(n.Attr, html.Attribute{Key: "id", Val: "probe"}) {
			found = n
		}
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == nil || found.FirstChild == nil {
		t.Fatal("the probe did not run: no <pre id=probe> in the DOM")
	}
	return found.FirstChild.Data
}
