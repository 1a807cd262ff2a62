package diff

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSpec writes an OpenAPI 3 document with the given servers blocks
// (document-level top, path-level path, operation-level op) for GET /a.
func writeSpec(t *testing.T, dir, name, top, path, op string) string {
	t.Helper()
	doc := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n" + top + "paths:\n  /a:\n" + path + "    get:\n" + op + "      responses:\n        '200': {description: ok}\n"
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAttachments(t *testing.T) {
	tests := []struct {
		name          string
		top, path, op string
		attachTo      string
		want          string // services attached to, "" for none
		findings      bool   // the traffic to seen.test yields findings from this spec
	}{
		{name: "document servers, host seen", top: "servers: [{url: 'http://seen.test/'}]\n", want: "seen.test", findings: true},
		{name: "document servers, host unseen", top: "servers: [{url: 'https://api.example.com/v1'}]\n"},
		{name: "path servers, host unseen", path: "    servers: [{url: 'https://paths.example.com'}]\n"},
		{name: "operation servers, host unseen", op: "      servers: [{url: 'https://ops.example.com'}]\n"},
		{name: "operation servers on loopback: where the document is", op: "      servers: [{url: 'http://localhost:8080'}]\n", top: "servers: [{url: 'http://seen.test/'}]\n", want: "seen.test", findings: true},
		{name: "path servers on loopback, no document servers: every service", path: "    servers: [{url: 'http://127.0.0.1:3000'}]\n", want: "other.test,seen.test", findings: true},
		{name: "operation servers, host seen", op: "      servers: [{url: 'http://seen.test'}]\n", want: "seen.test", findings: true},
		{name: "no servers: every service", want: "other.test,seen.test", findings: true},
		{name: "relative server: every service", top: "servers: [{url: /v1}]\n", want: "other.test,seen.test", findings: true},
		{name: "spec-host unseen", top: "servers: [{url: 'http://seen.test'}]\n", attachTo: "nowhere.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeSpec(t, t.TempDir(), "s.yaml", tt.top, tt.path, tt.op)
			specs, err := LoadSpecs(p)
			if err != nil {
				t.Fatal(err)
			}
			if tt.attachTo != "" {
				for _, s := range specs {
					s.AttachTo(tt.attachTo)
				}
			}
			c := NewChecker(specs, Options{})
			c.Check(exch(0, "seen.test", "GET", "/b", "", "", 200, "", ""))
			c.Check(exch(1, "other.test:8080", "GET", "/b", "", "", 200, "", ""))
			c.Check(exch(2, "other.test:8080", "GET", "/c", "", "", 200, "", ""))
			as := c.Attachments()
			if len(as) != 1 {
				t.Fatalf("%d attachments, want 1: %+v", len(as), as)
			}
			a := as[0]
			got := strings.Join(a.Services, ",")
			if tt.want == "other.test,seen.test" {
				tt.want = "other.test:8080,seen.test"
			}
			if got != tt.want {
				t.Errorf("attached to %q, want %q (%s)", got, tt.want, a.String())
			}
			if a.Spec != p {
				t.Errorf("spec = %s, want %s", a.Spec, p)
			}
			if tt.want == "" {
				if len(Unattached(as)) != 1 || !strings.Contains(a.String(), "attached to no service") || !strings.Contains(a.String(), p) {
					t.Errorf("unattached spec not reported: %s", a.String())
				}
				if len(a.Servers) == 0 && tt.top+tt.path+tt.op != "" {
					t.Errorf("servers not named: %s", a.String())
				}
			} else if len(Unattached(as)) != 0 {
				t.Errorf("Unattached = %+v", Unattached(as))
			}
			if got := len(c.Findings()) > 0; got != tt.findings {
				t.Errorf("findings = %v, want %v", c.Findings(), tt.findings)
			}
		})
	}
}

// The attachments travel in the JSON report and as SARIF notifications.
func TestReportAttachments(t *testing.T) {
	p := writeSpec(t, t.TempDir(), "s.yaml", "servers: [{url: 'https://api.example.com/v1'}]\n", "", "")
	specs, err := LoadSpecs(p)
	if err != nil {
		t.Fatal(err)
	}
	traffic := map[string]uint64{"seen.test": 3}
	rep := Report{Specs: Attachments(specs, traffic), Unchecked: Unchecked(specs, traffic)}
	var js bytes.Buffer
	if err := WriteReport(&js, rep, "json", "test"); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Specs) != 1 || back.Specs[0].Attached() || back.Specs[0].Servers[0] != "https://api.example.com/v1" || strings.Join(back.Unchecked, ",") != "seen.test" {
		t.Fatalf("json report: %s", js.String())
	}
	for _, format := range []string{"table", "markdown"} {
		var b bytes.Buffer
		if err := WriteReport(&b, rep, format, "test"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "1 spec(s) attached to no service") {
			t.Errorf("%s does not say a spec checked nothing:\n%s", format, b.String())
		}
	}
	var sr bytes.Buffer
	if err := WriteReport(&sr, rep, "sarif", "test"); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Invocations []struct {
				Notes []struct {
					Descriptor struct{ ID string }   `json:"descriptor"`
					Level      string                `json:"level"`
					Message    struct{ Text string } `json:"message"`
				} `json:"toolConfigurationNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sr.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	notes := log.Runs[0].Invocations[0].Notes
	if len(notes) != 2 || notes[0].Descriptor.ID != "spec-unattached" || notes[0].Level != "error" || !strings.Contains(notes[0].Message.Text, p) || notes[1].Descriptor.ID != "service-unchecked" {
		t.Fatalf("sarif notifications: %s", sr.String())
	}
}

// A file whose path items name several servers is attached when one is
// seen; the paths under the servers no service matched are named.
func TestAttachmentsPartial(t *testing.T) {
	specs, err := LoadSpecs(filepath.Join("testdata", "multi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	as := Attachments(specs, map[string]uint64{"a.test": 2})
	if len(as) != 1 || !as[0].Attached() || strings.Join(as[0].UnattachedServers, ",") != "http://b.test/v2" ||
		!strings.Contains(as[0].String(), "the paths under http://b.test/v2 attached to no service") {
		t.Fatalf("attachments %+v: %s", as, as[0].String())
	}
	as = Attachments(specs, map[string]uint64{"a.test": 2, "b.test": 1})
	if len(as[0].UnattachedServers) != 0 || strings.Join(as[0].Services, ",") != "a.test,b.test" || as[0].Exchanges != 3 {
		t.Fatalf("attachments %+v", as)
	}
}
