package grpcshape

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// TestCheckShape: a shape inferred from messages has problems exactly when
// Check refuses one of them (for what a shape can tell), with the rule and
// the field path.
func TestCheckShape(t *testing.T) {
	files, err := LoadProtoset(protoset(t))
	if err != nil {
		t.Fatal(err)
	}
	md, err := FindMethod(files, "/routeguide.RouteGuide/GetFeature")
	if err != nil {
		t.Fatal(err)
	}
	point := msg(varint(1, 5), varint(2, 6))
	tests := []struct {
		name  string
		out   bool // the Feature (output) type, else Point
		msgs  [][]byte
		rules []string // "rule path"
	}{
		{"declared", false, [][]byte{point, msg(varint(1, 1))}, nil},
		{"undeclared field", false, [][]byte{point, msg(varint(1, 5), varint(9, 1))}, []string{"undeclared-field Point.field_9"}},
		{"wrong wire type", false, [][]byte{msg(bytesF(1, []byte("x")))}, []string{"wire-type Point.latitude"}},
		{"mixed wire types", false, [][]byte{msg(varint(2, 1)), msg(fixed32(2, 1))}, []string{"wire-type Point.longitude"}},
		{"nested undeclared", true, [][]byte{msg(bytesF(1, []byte("n")), bytesF(2, msg(varint(3, 1))))}, []string{"undeclared-field Feature.location.field_3"}},
		{"nested declared", true, [][]byte{msg(bytesF(1, []byte("n")), bytesF(2, point))}, nil},
		{"not a message", true, [][]byte{msg(bytesF(2, []byte{0x0a, 0x80}))}, []string{"not-a-message Feature.location"}},
		{"malformed", false, [][]byte{{0x0a, 0x80}}, []string{"malformed Point"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := md.Input()
			if tc.out {
				typ = md.Output()
			}
			var s Shape
			checkOK := true
			for _, b := range tc.msgs {
				s.Add(b)
				checkOK = checkOK && Check(typ, b) == nil
			}
			var got []string
			for _, p := range CheckShape(typ, &s) {
				got = append(got, p.Rule+" "+p.Path)
				if p.Count <= 0 || p.Reason == "" {
					t.Errorf("problem %+v without count or reason", p)
				}
			}
			if strings.Join(got, ";") != strings.Join(tc.rules, ";") {
				t.Errorf("problems %v, want %v", got, tc.rules)
			}
			if checkOK != (len(got) == 0) {
				t.Errorf("Check says ok=%v, CheckShape %v", checkOK, got)
			}
		})
	}
}

// TestShapeJSON: a shape survives JSON with the evidence its kinds were
// decided from, so that merging after a reload is merging before it.
func TestShapeJSON(t *testing.T) {
	svc := routeGuide(t)
	for _, m := range svc.Methods {
		for _, s := range []*Shape{&m.Request, &m.Response} {
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var back Shape
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if err := back.Validate(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&back, s) {
				t.Errorf("%s: round trip differs:\n%s", m.Name, b)
			}
			twice, direct := back, Shape{}
			twice.Merge(s)
			direct.Merge(s)
			direct.Merge(s)
			if !reflect.DeepEqual(&twice, &direct) {
				t.Errorf("%s: merge after reload differs", m.Name)
			}
		}
	}
	for _, bad := range []string{`{"fields":[{"number":0,"kind":"varint","wire":0,"count":1}]}`,
		`{"fields":[{"number":1,"kind":"nope","wire":0,"count":1}]}`,
		`{"fields":[{"number":1,"kind":"varint","wire":3,"count":1}]}`,
		`{"fields":[{"number":1,"kind":"varint","wire":0,"count":-1}]}`} {
		var s Shape
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestLoadProtosets: sets sharing an import load together; two different
// files of one name are refused.
func TestLoadProtosets(t *testing.T) {
	a := protoset(t)
	if _, err := LoadProtosets(a, a); err != nil {
		t.Errorf("the same set twice: %v", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(a, &set); err != nil {
		t.Fatal(err)
	}
	set.File[0].Package = proto.String("other")
	b, _ := proto.Marshal(&set)
	if _, err := LoadProtosets(a, b); err == nil || !strings.Contains(err.Error(), "route_guide.proto") {
		t.Errorf("conflicting files: %v", err)
	}
	if _, err := LoadProtosets(a, []byte{0xff}); err == nil || !strings.Contains(err.Error(), "protoset 2") {
		t.Errorf("garbage: %v", err)
	}
}

// FuzzCheckShape: no input panics, and messages Check accepts give a shape
// without problems.
func FuzzCheckShape(f *testing.F) {
	f.Add(msg(bytesF(1, []byte("n")), bytesF(2, msg(varint(1, 1), varint(2, 2)))))
	f.Add(msg(varint(1, 1), fixed64(2, 3)))
	f.Add([]byte{0x12, 0x02, 0x0a, 0x80})
	files, err := LoadProtoset(protoset(f))
	if err != nil {
		f.Fatal(err)
	}
	md, err := FindMethod(files, "/routeguide.RouteGuide/GetFeature")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Shape
		s.Add(b)
		ps := CheckShape(md.Output(), &s)
		if Check(md.Output(), b) == nil && len(ps) > 0 {
			t.Fatalf("Check accepts %x, CheckShape reports %+v", b, ps)
		}
		js, err := json.Marshal(&s)
		if err != nil {
			t.Fatal(err)
		}
		var back Shape
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestNodeBound: messages made to nest MaxFields messages of MaxFields
// fields each, merged, added or reloaded, never hold more than MaxNodes
// fields in all, and what they leave out is counted.
func TestNodeBound(t *testing.T) {
	wide := func(base uint64) []byte {
		var inner []func([]byte) []byte
		for i := range 64 {
			inner = append(inner, varint(protowire.Number(i+1), base))
		}
		var outer []func([]byte) []byte
		for i := range 200 {
			outer = append(outer, bytesF(protowire.Number(i+1), msg(inner...)))
		}
		return msg(outer...)
	}
	var a, b Shape
	a.Add(wide(1))
	b.Add(wide(2))
	a.Merge(&b)
	a.Merge(&b)
	a.Add(wide(3))
	dropped := func(s *Shape) int {
		n := s.DroppedFields
		for _, f := range s.Fields {
			if f.Message != nil {
				n += f.Message.DroppedFields
			}
		}
		return n
	}
	for name, s := range map[string]*Shape{"added": &b, "merged": &a} {
		if n := s.Size(); n > MaxNodes {
			t.Errorf("%s: %d fields, more than %d", name, n, MaxNodes)
		}
		if dropped(s) == 0 {
			t.Errorf("%s: nothing counted as dropped", name)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if a.Size() != MaxNodes {
		t.Errorf("merged size %d, want the bound %d", a.Size(), MaxNodes)
	}
}
