package diff

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/corpus"
	"github.com/specter-dev/specter/capture/synth"
	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/reassembly"
)

// servedSpecs loads a traffic set's served specs (every operation the mock
// server answered), attached to their hosts: every request matches, so
// every exchange takes the full validation path.
func servedSpecs(tb testing.TB, set string) []*Spec {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(set, "truth.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var truth struct {
		APIs []struct {
			Host       string `json:"host"`
			ServedSpec string `json:"served_spec"`
		} `json:"apis"`
	}
	if err := json.Unmarshal(b, &truth); err != nil {
		tb.Fatal(err)
	}
	var specs []*Spec
	for _, a := range truth.APIs {
		s, err := LoadSpec(filepath.Join(set, a.ServedSpec))
		if err != nil {
			tb.Fatal(err)
		}
		s.AttachTo(a.Host)
		specs = append(specs, s)
	}
	return specs
}

// runPcap decodes and reassembles a capture, the work `specter analyze`
// does without --spec, calling emit for every exchange.
func runPcap(tb testing.TB, path string, emit func(*reassembly.Exchange)) {
	p := reassembly.New(reassembly.DefaultConfig(), emit)
	dec := capture.NewDecoder(capture.DecoderOptions{})
	r, err := capture.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var pkt capture.Packet
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		if ok, _ := dec.Decode(f, &pkt); ok {
			p.Add(&pkt)
		}
	}
	p.Close()
}

// BenchmarkCheck measures, per traffic set, the capture pipeline alone
// ("pipeline"), the pipeline with every exchange checked against the
// served specs ("pipeline+check"), and Check alone on exchanges already in
// memory ("check"). The validation overhead is the ratio of the first two.
func BenchmarkCheck(b *testing.B) {
	root := corpus.Dir(b, "corpus/traffic")
	for _, name := range []string{"swagger-petstore3", "spotify", "discourse", "adafruit-io"} {
		set := filepath.Join(root, name)
		pcap := filepath.Join(set, "traffic.pcap")
		if _, err := os.Stat(pcap); err != nil {
			continue
		}
		specs := servedSpecs(b, set)
		var xs []*reassembly.Exchange
		runPcap(b, pcap, func(x *reassembly.Exchange) { xs = append(xs, x) })
		st, _ := os.Stat(pcap)
		report := func(b *testing.B) {
			b.ReportMetric(float64(len(xs))*float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
		}
		b.Run(name+"/pipeline", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(st.Size())
			for i := 0; i < b.N; i++ {
				runPcap(b, pcap, func(*reassembly.Exchange) {})
			}
			report(b)
		})
		b.Run(name+"/pipeline+check", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(st.Size())
			for i := 0; i < b.N; i++ {
				c := NewChecker(specs, Options{})
				runPcap(b, pcap, c.Check)
				_ = c.Findings()
			}
			report(b)
		})
		b.Run(name+"/check", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := NewChecker(specs, Options{})
				for _, x := range xs {
					c.Check(x)
				}
			}
			report(b)
		})
	}
}

// BenchmarkCheckSynth is the `make bench` setting: keep-alive JSON API
// traffic (capture/synth, 32 MB) checked against the spec inferred from
// it (every request matches; no findings), beside the pipeline alone.
func BenchmarkCheckSynth(b *testing.B) {
	path := filepath.Join(b.TempDir(), "synth.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	cfg := synth.DefaultConfig()
	cfg.TargetBytes = 32 << 20
	if _, err := synth.Write(f, cfg); err != nil {
		b.Fatal(err)
	}
	f.Close()
	m := infer.NewModel(infer.Config{})
	n := 0
	runPcap(b, path, func(x *reassembly.Exchange) { m.Observe(x); n++ })
	doc, err := m.OpenAPIAll(infer.ExportOptions{Version: "3.0"})
	if err != nil {
		b.Fatal(err)
	}
	specs := []*Spec{{File: "synth", Doc: doc, Bases: []string{""}, trie: newTrie(doc, nil)}}
	specs = specs[0].Split()
	st, _ := os.Stat(path)
	for _, withSpec := range []bool{false, true} {
		name := "pipeline"
		if withSpec {
			name = "pipeline+check"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(st.Size())
			var c *Checker
			for i := 0; i < b.N; i++ {
				emit := func(*reassembly.Exchange) {}
				if withSpec {
					c = NewChecker(specs, Options{})
					emit = c.Check
				}
				runPcap(b, path, emit)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
			if c != nil {
				if fs := c.Findings(); len(fs) != 0 {
					b.Fatalf("%d findings against the traffic's own spec, first %+v", len(fs), fs[0])
				}
			}
		})
	}
}
