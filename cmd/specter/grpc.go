package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/infer/grpcshape"
	"github.com/specter-dev/specter/reassembly/http2"
)

// protoFlags are the declared protosets (FileDescriptorSets) of diff,
// analyze and export --format proto.
type protoFlags struct {
	paths []string
}

func (f *protoFlags) register(cmd *cobra.Command, usage string) {
	cmd.Flags().StringArrayVar(&f.paths, "proto", nil, usage)
}

// load reads the protosets into one registry; nil without --proto.
func (f *protoFlags) load() (*protoregistry.Files, error) {
	if len(f.paths) == 0 {
		return nil, nil
	}
	var sets [][]byte
	for _, p := range f.paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageError("--proto: %v", err)
		}
		if _, err := grpcshape.LoadProtoset(b); err != nil {
			return nil, usageError("--proto %s: %v (want a FileDescriptorSet: protoc --descriptor_set_out, buf build -o)", p, err)
		}
		sets = append(sets, b)
	}
	files, err := grpcshape.LoadProtosets(sets...)
	if err != nil {
		return nil, usageError("--proto %s: %v", strings.Join(f.paths, ", "), err)
	}
	return files, nil
}

// grpcOnly keeps the gRPC methods of host (all when host is "").
func grpcOnly(list []infer.GRPCMethodSummary, host string) []infer.GRPCMethodSummary {
	if host == "" {
		return list
	}
	var out []infer.GRPCMethodSummary
	for _, g := range list {
		if g.Service == host {
			out = append(out, g)
		}
	}
	return out
}

// printGRPCMethods writes the gRPC methods as a table.
func printGRPCMethods(w io.Writer, list []infer.GRPCMethodSummary) {
	tw := newTable(w)
	fmt.Fprintln(tw, "SERVICE\tGRPC SERVICE\tMETHOD\tKIND\tCALLS\tMSGS IN/OUT\tSTATUSES\tP50 MS\tFIRST SEEN\tLAST SEEN\tSENSITIVE")
	for _, g := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d/%d\t%s\t%.2f\t%s\t%s\t%s\n", g.Service, g.GRPCService, g.RPC, g.Kind, g.Count,
			g.RequestMessages, g.ResponseMessages, grpcStatuses(g.GRPCStatuses), g.Latency.P50,
			g.FirstSeen.UTC().Format(time.RFC3339), g.LastSeen.UTC().Format(time.RFC3339), dash(strings.Join(g.Sensitive, ",")))
	}
	tw.Flush()
}

// grpcStatuses renders status counts, OK first then by name.
func grpcStatuses(st map[string]uint64) string {
	names := make([]string, 0, len(st))
	for k := range st {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "OK") != (names[j] == "OK") {
			return names[i] == "OK"
		}
		return names[i] < names[j]
	})
	var out []string
	for _, k := range names {
		out = append(out, fmt.Sprintf("%s×%d", k, st[k]))
	}
	return dash(strings.Join(out, " "))
}

// isGRPCLookup reports whether show's METHOD PATH may name a gRPC method:
// POST (what the wire says) or GRPC, and a /pkg.Service/Method path.
func isGRPCLookup(method, path string) bool {
	return (method == "POST" || method == "GRPC") && http2.IsGRPCPath(path)
}

// findGRPC returns the gRPC methods of path (of host when not "").
func findGRPC(list []infer.GRPCMethodSummary, method, path, host string) []infer.GRPCMethodSummary {
	if !isGRPCLookup(method, path) {
		return nil
	}
	var out []infer.GRPCMethodSummary
	for _, g := range grpcOnly(list, host) {
		if g.Template == path {
			out = append(out, g)
		}
	}
	return out
}

// grpcDetail is what show prints for one gRPC method: its summary and the
// reconstructed .proto of the method alone (its request and response
// messages as inferred).
type grpcDetail struct {
	GRPC  infer.GRPCMethodSummary `json:"grpc"`
	Proto string                  `json:"proto"`
}

// showGRPC prints the gRPC methods found, from m's shapes.
func showGRPC(w io.Writer, m *infer.Model, found []infer.GRPCMethodSummary, asJSON bool) error {
	var details []grpcDetail
	for _, g := range found {
		d := grpcDetail{GRPC: g}
		for _, svc := range m.GRPCServices(g.Service) {
			if svc.Name != g.GRPCService {
				continue
			}
			one := &grpcshape.Service{Name: svc.Name}
			for _, meth := range svc.Methods {
				if meth.Name == g.RPC {
					one.Methods = append(one.Methods, meth)
				}
			}
			var buf bytes.Buffer
			if err := grpcshape.WriteProto(&buf, one, nil); err != nil {
				return err
			}
			d.Proto = buf.String()
		}
		details = append(details, d)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(details)
	}
	for i, d := range details {
		if i > 0 {
			fmt.Fprintln(w)
		}
		g := d.GRPC
		tw := newTable(w)
		row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
		row("service", g.Service)
		row("grpc method", g.Template)
		row("kind", strings.ReplaceAll(g.Kind, "_", " "))
		row("calls", g.Count)
		row("messages", fmt.Sprintf("%d request, %d response", g.RequestMessages, g.ResponseMessages))
		row("statuses", grpcStatuses(g.GRPCStatuses))
		row("latency", fmt.Sprintf("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms", g.Latency.P50, g.Latency.P90, g.Latency.P99))
		row("first seen", g.FirstSeen.UTC().Format(time.RFC3339))
		row("last seen", g.LastSeen.UTC().Format(time.RFC3339))
		row("sensitive", dash(strings.Join(g.Sensitive, ", ")))
		var paths []string
		for p, tags := range g.SensitiveFields {
			paths = append(paths, p+" ("+strings.Join(tags, ",")+")")
		}
		sort.Strings(paths)
		if len(paths) > 0 {
			row("sensitive fields", strings.Join(paths, ", "))
		}
		if g.Unshaped > 0 || g.Malformed > 0 {
			row("messages not inferred", fmt.Sprintf("%d cut or compressed, %d not protobuf", g.Unshaped, g.Malformed))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		body := strings.ReplaceAll(strings.TrimSuffix(d.Proto, "\n"), "\n", "\n  ")
		if _, err := fmt.Fprintf(w, "\nproto:\n  %s\n", body); err != nil {
			return err
		}
	}
	return nil
}

// writeProtos writes a reconstructed .proto per gRPC service of m (of
// host when not ""), named by files where they declare it. With output
// "" they go to w one after the other, each after a "// ==> NAME.proto"
// line (a single service is a file protoc compiles as it is); else output
// is a directory (created when missing) that receives NAME.proto per
// service, NAME the service's full name.
func writeProtos(w, errw io.Writer, m *infer.Model, host string, files *protoregistry.Files, output string) error {
	svcs := m.GRPCServices(host)
	if len(svcs) == 0 {
		where := "the inventory"
		if host != "" {
			where = "service " + host
		}
		return partialError(fmt.Errorf("no gRPC service in %s", where))
	}
	if output != "" {
		if err := os.MkdirAll(output, 0o755); err != nil {
			return fatalError(err)
		}
	}
	skipped, n := 0, 0
	for _, svc := range svcs {
		var buf bytes.Buffer
		if err := grpcshape.WriteProto(&buf, svc, files); errors.Is(err, grpcshape.ErrNotIdentifier) {
			// A name proto cannot spell (seen on the wire, so anything):
			// the other services are still written.
			fmt.Fprintf(errw, "specter: gRPC service %s not written: its name is not a proto identifier\n", strconv.Quote(svc.Name))
			skipped++
			continue
		} else if err != nil {
			return fatalError(err)
		}
		name := svc.Name + ".proto"
		if output != "" {
			if err := os.WriteFile(filepath.Join(output, name), buf.Bytes(), 0o644); err != nil {
				return fatalError(err)
			}
			continue
		}
		if len(svcs) > 1 {
			if n > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "// ==> %s <==\n", name)
		}
		n++
		if _, err := w.Write(buf.Bytes()); err != nil {
			return fatalError(err)
		}
	}
	if skipped > 0 {
		return partialError(fmt.Errorf("%d gRPC service(s) not written", skipped))
	}
	return nil
}

// endpointsJSON is the endpoints listing: the REST endpoints, then the gRPC
// methods (protocol "grpc"), in one array whose entries all decode as
// infer.EndpointSummary.
func endpointsJSON(eps []infer.EndpointSummary, grpcs []infer.GRPCMethodSummary) any {
	if len(grpcs) == 0 {
		return eps
	}
	out := make([]any, 0, len(eps)+len(grpcs))
	for _, e := range eps {
		out = append(out, e)
	}
	for _, g := range grpcs {
		out = append(out, g)
	}
	return out
}

// storedEndpointsAndGRPC lists the endpoint and gRPC method rows of the
// database at dbPath (of host when not "").
func storedEndpointsAndGRPC(ctx context.Context, dbPath, host string) ([]infer.EndpointSummary, []infer.GRPCMethodSummary, error) {
	db, err := openStored(ctx, dbPath, infer.Config{})
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	eps, err := db.Endpoints(ctx, host)
	if err != nil {
		return nil, nil, fatalError(err)
	}
	grpcs, err := db.GRPCMethods(ctx, host)
	if err != nil {
		return nil, nil, fatalError(err)
	}
	return eps, grpcs, nil
}

// withGRPCFindings adds to rep (created when nil) the findings of the gRPC
// methods against the protosets: of m, the inventory of this run, or with
// m nil of the inventory stored at dbPath.
func withGRPCFindings(ctx context.Context, rep *diff.Report, m *infer.Model, dbPath string, protos *protoregistry.Files) (*diff.Report, error) {
	if m == nil && dbPath != "" {
		db, err := openStored(ctx, dbPath, infer.Config{})
		if err != nil {
			return rep, err
		}
		defer db.Close()
		if m, err = db.Model(ctx); err != nil {
			return rep, fatalError(err)
		}
	}
	if rep == nil {
		rep = &diff.Report{}
	}
	rep.Findings = diff.Merge(rep.Findings, diff.GRPCFindings(m, protos))
	return rep, nil
}

// checkedByProtosets drops from unchecked (the services no OpenAPI spec is
// attached to) those whose every exchange was a gRPC call: with
// protosets, they were checked (by diff.GRPCFindings), and "no spec is
// attached" would say otherwise.
func checkedByProtosets(unchecked []string, m *infer.Model, protos *protoregistry.Files) []string {
	if protos == nil || m == nil {
		return unchecked
	}
	var out []string
	for _, name := range unchecked {
		s := m.ByName[name]
		var calls uint64
		if s != nil {
			for _, g := range s.GRPC {
				for _, gm := range g.Methods {
					calls += gm.Count
				}
			}
		}
		if s == nil || calls < s.Count {
			out = append(out, name)
		}
	}
	return out
}
