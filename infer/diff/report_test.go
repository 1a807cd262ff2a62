package diff

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func petFindings(t *testing.T) []Finding {
	t.Helper()
	c := NewChecker([]*Spec{mustSpec(t, "pets.yaml")}, Options{})
	for _, x := range petTraffic() {
		c.Check(x)
	}
	return c.Findings()
}

func TestReportsGolden(t *testing.T) {
	fs := petFindings(t)
	for _, tt := range []struct{ format, file string }{
		{"table", "report.txt"},
		{"json", "report.json"},
		{"markdown", "report.md"},
		{"sarif", "report.sarif"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, fs, tt.format, "test"); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", tt.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s (run with -update to accept):\n%s", tt.format, golden, buf.String())
			}
		})
	}
	if err := Write(&bytes.Buffer{}, fs, "xml", ""); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestJSONReportRoundTrip(t *testing.T) {
	fs := petFindings(t)
	var buf bytes.Buffer
	if err := Write(&buf, fs, "json", ""); err != nil {
		t.Fatal(err)
	}
	// The shape the scorer and the issue require.
	var raw struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, f := range raw.Findings {
		for _, k := range []string{"kind", "service", "host", "method", "path", "severity", "count", "fingerprint"} {
			if _, ok := f[k]; !ok {
				t.Fatalf("finding without %q: %v", k, f)
			}
		}
	}
	rep, err := ReadReport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(Suppress(fs, rep.Findings)) != 0 {
		t.Error("a report does not suppress its own findings")
	}
	var empty bytes.Buffer
	if err := Write(&empty, nil, "json", ""); err != nil || !strings.Contains(empty.String(), `"findings": []`) {
		t.Errorf("empty report = %q, %v", empty.String(), err)
	}
}

// sarifSchema fetches the SARIF 2.1.0 JSON schema from the npm registry
// (@microsoft/jest-sarif ships it, MIT) into the user cache, or skips.
func sarifSchema(t *testing.T) string {
	t.Helper()
	const pkg, file = "@microsoft/jest-sarif@1.0.0-beta.0", "package/lib/schemas/sarif-2.1.0-rtm.5.json"
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip("no cache dir")
	}
	dir := filepath.Join(cache, "specter", "sarif-schema")
	path := filepath.Join(dir, file)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm not installed: cannot fetch the SARIF schema")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skip(err)
	}
	out, err := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, pkg).Output()
	if err != nil {
		t.Skipf("npm pack %s: %v (offline?)", pkg, err)
	}
	tgz := filepath.Join(dir, strings.TrimSpace(string(out)))
	if err := exec.Command("tar", "-xzf", tgz, "-C", dir, file).Run(); err != nil {
		t.Skipf("unpacking %s: %v", tgz, err)
	}
	return path
}

func TestSARIFValidates(t *testing.T) {
	schemaPath := sarifSchema(t)
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := comp.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	attached := Report{Findings: petFindings(t), Specs: []Attachment{
		{Spec: "testdata/pets.yaml", Servers: []string{"http://pets.test/api/v3"}, Services: []string{"pets.test"}, Exchanges: 3},
		{Spec: "testdata/none.yaml", Servers: []string{"https://api.example.com"}, Services: []string{}},
	}, Unchecked: []string{"other.test"}}
	for name, rep := range map[string]Report{"pets": {Findings: petFindings(t)}, "empty": {}, "attachments": attached} {
		var buf bytes.Buffer
		if err := WriteReport(&buf, rep, "sarif", "test"); err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: SARIF does not validate: %v", name, err)
		}
	}
	// A result is located at the operation's line in the spec.
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	var buf bytes.Buffer
	_ = Write(&buf, petFindings(t), "sarif", "test")
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range log.Runs[0].Results {
		if r.RuleID == "zombie" {
			pl := r.Locations[0].PhysicalLocation
			found = pl.ArtifactLocation.URI == "testdata/pets.yaml" && pl.Region.StartLine == 46
		}
	}
	if !found {
		t.Errorf("zombie result not located at testdata/pets.yaml:46: %s", buf.String())
	}
}
