package diff

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/specter-dev/specter/infer"
	"github.com/specter-dev/specter/infer/grpcshape"
)

// Rules of the gRPC findings (see GRPCFindings). Noncompliance rules are
// followed by ":" and the grpcshape problem rule and field path, so that
// each broken field is its own finding.
const (
	RuleGRPCUndeclaredService = "grpc-undeclared-service" // shadow: the gRPC service is not in the protosets
	RuleGRPCUndeclaredMethod  = "grpc-undeclared-method"  // shadow: the service is, the method is not
	RuleGRPCDeprecated        = "grpc-deprecated"         // zombie
	RuleGRPCNoTraffic         = "grpc-no-traffic"         // unused
	RuleGRPCRequest           = "grpc-request"            // noncompliant_request
	RuleGRPCResponse          = "grpc-response"           // noncompliant_response
)

// GRPCFindings checks the gRPC methods of m's inventory against the
// declared protosets (a registry of grpcshape.LoadProtosets); with files
// nil it reports nothing. Findings have method POST and the method path
// as their path:
//
//   - shadow, rule grpc-undeclared-service or grpc-undeclared-method: a
//     method called that no protoset declares.
//   - zombie, rule grpc-deprecated: a method (or its service) declared
//     with option deprecated = true was called.
//   - noncompliant_request and noncompliant_response, rules
//     grpc-request:<problem>:<field path> and grpc-response:…: the
//     messages' inferred shape breaks the declared message type
//     (grpcshape.CheckShape: undeclared field numbers, wrong wire types,
//     values that do not parse as the declared message, malformed
//     messages). The count is the values that showed it.
//   - unused, rule grpc-no-traffic: a declared, not deprecated method
//     never called, on each service (host) where its gRPC service had
//     traffic; a declared gRPC service no host called gets one finding
//     per method with no service.
func GRPCFindings(m *infer.Model, files *protoregistry.Files) []Finding {
	if m == nil || files == nil {
		return nil
	}
	var out []Finding
	seen := map[string]bool{} // gRPC services with traffic on some host
	// The traffic window of each gRPC service, per host, for unused.
	type window struct{ first, last time.Time }
	windows := map[[2]string]*window{}
	for _, name := range m.Services() {
		svc := m.ByName[name]
		for _, gname := range sortedNames(svc.GRPC) {
			seen[gname] = true
			gs := svc.GRPC[gname]
			for _, mname := range sortedNames(gs.Methods) {
				gm := gs.Methods[mname]
				w := windows[[2]string{name, gname}]
				if w == nil {
					w = &window{}
					windows[[2]string{name, gname}] = w
				}
				widen(&w.first, &w.last, gm.FirstSeen)
				widen(&w.first, &w.last, gm.LastSeen)
				path := "/" + gname + "/" + mname
				add := func(k Kind, rule, reason string, n uint64) *Finding {
					f := newFinding(k, rule, name, "POST", path)
					f.Reason, f.Count, f.FirstSeen, f.LastSeen = reason, n, gm.FirstSeen, gm.LastSeen
					out = append(out, *f)
					return &out[len(out)-1]
				}
				md, err := grpcshape.FindMethod(files, path)
				if err != nil {
					if _, serr := files.FindDescriptorByName(protoreflect.FullName(gname)); serr != nil {
						add(KindShadow, RuleGRPCUndeclaredService, "gRPC service "+gname+" is not declared in the protosets", gm.Count)
					} else {
						add(KindShadow, RuleGRPCUndeclaredMethod, "method "+mname+" is not declared in gRPC service "+gname, gm.Count)
					}
					continue
				}
				locate := func(f *Finding) { f.Spec, f.SpecLine = md.ParentFile().Path(), line(md) }
				if grpcDeprecated(md) {
					locate(add(KindZombie, RuleGRPCDeprecated, path+" is declared deprecated", gm.Count))
				}
				for _, dir := range []struct {
					kind  Kind
					rule  string
					md    protoreflect.MessageDescriptor
					shape *grpcshape.Shape
				}{{KindNoncompliantRequest, RuleGRPCRequest, md.Input(), &gm.Request}, {KindNoncompliantResponse, RuleGRPCResponse, md.Output(), &gm.Response}} {
					for _, p := range grpcshape.CheckShape(dir.md, dir.shape) {
						f := add(dir.kind, dir.rule+":"+p.Rule+":"+p.Path, p.Reason, uint64(p.Count))
						f.Pointer = p.Path
						locate(f)
					}
				}
			}
		}
	}
	// Unused: the declared methods of each gRPC service, per host that
	// called the service, then for services nobody called.
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			gname := string(sd.FullName())
			var hosts []string
			for _, name := range m.Services() {
				if windows[[2]string{name, gname}] != nil {
					hosts = append(hosts, name)
				}
			}
			if !seen[gname] {
				hosts = []string{""}
			}
			for _, host := range hosts {
				for j := 0; j < sd.Methods().Len(); j++ {
					md := sd.Methods().Get(j)
					if grpcDeprecated(md) {
						continue
					}
					if host != "" {
						if gs := m.ByName[host].GRPC[gname]; gs != nil && gs.Methods[string(md.Name())] != nil {
							continue
						}
					}
					f := newFinding(KindUnused, RuleGRPCNoTraffic, host, "POST", "/"+gname+"/"+string(md.Name()))
					if w := windows[[2]string{host, gname}]; w != nil {
						f.FirstSeen, f.LastSeen = w.first, w.last
						f.Reason = fmt.Sprintf("declared, never called while %s had traffic (%s to %s)", gname,
							w.first.UTC().Format(time.RFC3339), w.last.UTC().Format(time.RFC3339))
					} else {
						f.Reason = "declared, gRPC service " + gname + " had no traffic on any service"
					}
					f.Spec, f.SpecLine = fd.Path(), line(md)
					out = append(out, *f)
				}
			}
		}
		return true
	})
	Sort(out)
	return out
}

// grpcDeprecated reports whether a method, or its service, is declared with
// option deprecated = true.
func grpcDeprecated(md protoreflect.MethodDescriptor) bool {
	if o, ok := md.Options().(*descriptorpb.MethodOptions); ok && o.GetDeprecated() {
		return true
	}
	if sd, ok := md.Parent().(protoreflect.ServiceDescriptor); ok {
		if o, ok := sd.Options().(*descriptorpb.ServiceOptions); ok && o.GetDeprecated() {
			return true
		}
	}
	return false
}

// line is the 1-based line of d in its .proto when the protoset carries
// source info (protoc --include_source_info), else 0.
func line(d protoreflect.Descriptor) int {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	if loc.Path == nil {
		return 0
	}
	return loc.StartLine + 1
}

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
