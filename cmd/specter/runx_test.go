package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/specter-dev/specter/reassembly"
)

// testStreams are streams of buffers, for calling a verb's run function
// without cobra.
func testStreams() (ioStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb}, &out, &errb
}

// inputsOf are the resolved inputs of paths with the default bounds.
func inputsOf(paths ...string) inputOptions {
	return inputOptions{Paths: paths, Reassembly: reassembly.DefaultConfig()}
}

// truncatedDemo writes the demo capture cut in the middle of a record: an
// input error after some exchanges.
func truncatedDemo(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "truncated.pcap")
	if err := os.WriteFile(p, data[:len(data)/2+7], 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runVerb resolves a verb's options and runs it as the command does,
// fails unless the exit status is wantCode, and returns its standard
// output and its standard error with the exit message.
func runVerb(t *testing.T, wantCode int, resolve func() error, run func(context.Context, ioStreams) error) (string, string) {
	t.Helper()
	ios, out, errb := testStreams()
	err := resolve()
	if err == nil {
		err = run(context.Background(), ios)
	}
	code, msg := exitStatus(context.Background(), nil, err)
	if code != wantCode {
		t.Fatalf("exit %d (%s), want %d; stderr:\n%s", code, msg, wantCode, errb)
	}
	return out.String(), errb.String() + msg
}

// verbCase is a row of a run function's table: the exit status and what
// its standard output and error (with the exit message) must contain.
type verbCase struct {
	name             string
	wantCode         int
	wantOut, wantErr string
}

// check checks a run's standard output and error.
func (c verbCase) check(t *testing.T, out, errs string) {
	t.Helper()
	if !strings.Contains(out, c.wantOut) {
		t.Errorf("stdout lacks %q:\n%.2000s", c.wantOut, out)
	}
	if !strings.Contains(errs, c.wantErr) {
		t.Errorf("stderr lacks %q:\n%s", c.wantErr, errs)
	}
}

const shopSpec = "../../testdata/shop-declared.yaml"

// TestRunAnalyze calls runAnalyze with resolved options, as the cobra
// command does, and classifies its error as execute does.
func TestRunAnalyze(t *testing.T) {
	trunc := truncatedDemo(t)
	for _, tc := range []struct {
		name     string
		args     []string
		set      func(o *analyzeOptions, dir string)
		wantCode int
		check    func(t *testing.T, out, errs, dir string)
	}{
		{name: "summary", args: []string{demo}, check: func(t *testing.T, out, _, _ string) {
			if !strings.Contains(out, "exchanges") || !strings.Contains(out, "MB/s") {
				t.Errorf("no summary table:\n%s", out)
			}
		}},
		{name: "json endpoints", args: []string{demo}, set: func(o *analyzeOptions, _ string) { o.JSON, o.Endpoints = true, true },
			check: func(t *testing.T, out, _, _ string) {
				var v struct {
					Packets   uint64            `json:"packets"`
					Endpoints []json.RawMessage `json:"endpoints"`
				}
				if err := json.Unmarshal([]byte(out), &v); err != nil || v.Packets == 0 || len(v.Endpoints) == 0 {
					t.Errorf("%v: %d packets, %d endpoints:\n%s", err, v.Packets, len(v.Endpoints), out)
				}
			}},
		{name: "db", args: []string{demo}, set: func(o *analyzeOptions, dir string) { o.DBPath = filepath.Join(dir, "a.db") },
			check: func(t *testing.T, _, _, dir string) {
				eps, err := storedEndpoints(context.Background(), filepath.Join(dir, "a.db"), "")
				if err != nil || len(eps) == 0 {
					t.Errorf("stored endpoints: %d, %v", len(eps), err)
				}
			}},
		{name: "spec findings", args: []string{demo}, set: func(o *analyzeOptions, _ string) { o.Specs.specs = []string{shopSpec} },
			check: func(t *testing.T, out, errs, _ string) {
				if !strings.Contains(out, "findings: shadow") || !strings.Contains(errs, "attached to shop.example.test") {
					t.Errorf("no findings summary or attachment:\n%s\n%s", out, errs)
				}
			}},
		{name: "partial", args: []string{trunc}, wantCode: exitPartial, check: func(t *testing.T, out, errs, _ string) {
			if !strings.Contains(errs, "truncated.pcap") || !strings.Contains(out, "input errors") {
				t.Errorf("input error not reported:\n%s\n%s", out, errs)
			}
		}},
		{name: "missing input", args: []string{"nope.pcap"}, wantCode: exitFatal},
		{name: "missing spec", args: []string{demo}, set: func(o *analyzeOptions, _ string) { o.Specs.specs = []string{"nope.yaml"} }, wantCode: exitFatal},
		{name: "publish endpoints", args: []string{demo}, set: func(o *analyzeOptions, _ string) { o.Publish.url, o.Endpoints = "nats://127.0.0.1:1", true }, wantCode: exitFatal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := &analyzeOptions{Checkpoint: checkpointFlags{every: 200000}}
			if tc.set != nil {
				tc.set(opts, dir)
			}
			resolve := func() error { return opts.resolve(tc.args, nil, &pipelineFlags{}) }
			out, errs := runVerb(t, tc.wantCode, resolve, func(ctx context.Context, ios ioStreams) error { return runAnalyze(ctx, ios, opts) })
			if tc.check != nil {
				tc.check(t, out, errs, dir)
			}
		})
	}
}

// TestRunDiff calls runDiff with resolved options.
func TestRunDiff(t *testing.T) {
	trunc := truncatedDemo(t)
	shop := specFlags{specs: []string{shopSpec}}
	for _, tc := range []struct {
		verbCase
		opts diffOptions
	}{
		{verbCase{"table", exitOK, "SHADOW", ""}, diffOptions{Inputs: inputsOf(demo), Specs: shop, Format: "table"}},
		{verbCase{"fail on shadow", exitFindings, `"findings"`, ""}, diffOptions{Inputs: inputsOf(demo), Specs: shop, Format: "json", FailOn: "shadow"}},
		{verbCase{"specless", exitOK, "", "reporting only wire anomalies"}, diffOptions{Inputs: inputsOf(demo), Format: "table"}},
		{verbCase{"unknown host", exitPartial, "", "nope.test"}, diffOptions{Inputs: inputsOf(demo), Specs: shop, Format: "table", Host: "nope.test"}},
		{verbCase{"partial", exitPartial, "", "truncated.pcap"}, diffOptions{Inputs: inputsOf(trunc), Specs: shop, Format: "table"}},
		{verbCase{"bad format", exitFatal, "", "unknown --format"}, diffOptions{Inputs: inputsOf(demo), Format: "yaml"}},
		{verbCase{"bad fail-on", exitFatal, "", "unknown kind"}, diffOptions{Inputs: inputsOf(demo), Format: "table", FailOn: "shadows"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			out, errs := runVerb(t, tc.wantCode, opts.resolve, func(ctx context.Context, ios ioStreams) error { return runDiff(ctx, ios, &opts) })
			tc.check(t, out, errs)
		})
	}
}

// TestRunExport calls runExport with resolved options.
func TestRunExport(t *testing.T) {
	trunc := truncatedDemo(t)
	for _, tc := range []struct {
		verbCase
		opts exportOptions
	}{
		{verbCase{"yaml", exitOK, "openapi: 3.0", ""}, exportOptions{Inputs: inputsOf(demo), Format: "yaml", OpenAPI: "3.0"}},
		{verbCase{"json 3.1", exitOK, `"openapi": "3.1`, ""}, exportOptions{Inputs: inputsOf(demo), Format: "json", OpenAPI: "3.1"}},
		{verbCase{"one host", exitOK, "shop.example.test", ""}, exportOptions{Inputs: inputsOf(demo), Format: "yaml", OpenAPI: "3.0", Host: "shop.example.test"}},
		{verbCase{"partial", exitPartial, "paths:", "truncated.pcap"}, exportOptions{Inputs: inputsOf(trunc), Format: "yaml", OpenAPI: "3.0"}},
		{verbCase{"nothing read", exitFatal, "", "no packets could be read"}, exportOptions{Inputs: inputsOf(os.DevNull), Format: "yaml", OpenAPI: "3.0"}},
		{verbCase{"bad openapi", exitFatal, "", "unknown --openapi"}, exportOptions{Inputs: inputsOf(demo), Format: "yaml", OpenAPI: "2.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			out, errs := runVerb(t, tc.wantCode, opts.resolve, func(ctx context.Context, ios ioStreams) error { return runExport(ctx, ios, &opts) })
			tc.check(t, out, errs)
		})
	}
}

// failingWriter fails every write, as a closed pipe does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestRunExchanges calls runExchanges with resolved options, a writer
// that fails included: its error ends the verb, after the inputs are read.
func TestRunExchanges(t *testing.T) {
	for _, tc := range []struct {
		verbCase
		opts exchangesOptions
		out  io.Writer // nil: a buffer
	}{
		{verbCase{"jsonl", exitOK, `"request"`, ""}, exchangesOptions{Format: "jsonl"}, nil},
		{verbCase{"har", exitOK, `"entries"`, ""}, exchangesOptions{Format: "har"}, nil},
		{verbCase{"raw", exitOK, `"request"`, "--raw"}, exchangesOptions{Format: "jsonl", Raw: true}, nil},
		{verbCase{"bad format", exitFatal, "", "unknown --format"}, exchangesOptions{Format: "xml"}, nil},
		{verbCase{"failing output", exitFatal, "", "writing exchanges: broken pipe"}, exchangesOptions{Format: "jsonl"}, failingWriter{}},
		{verbCase{"disk full", exitWrite, "", "writing failed (disk full"}, exchangesOptions{Format: "har", Output: "/dev/full"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Output == "/dev/full" {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skipf("no /dev/full: %v", err)
				}
			}
			opts := tc.opts
			opts.Inputs = inputsOf(demo)
			ios, out, errb := testStreams()
			if tc.out != nil {
				ios.Out = tc.out
			}
			code, msg := exitStatus(context.Background(), nil, runExchanges(context.Background(), ios, &opts))
			if code != tc.wantCode {
				t.Fatalf("exit %d (%s), want %d; stderr:\n%s", code, msg, tc.wantCode, errb)
			}
			tc.check(t, out.String(), errb.String()+msg)
		})
	}
}
