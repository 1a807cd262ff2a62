package store

import (
	"fmt"
	"reflect"

	"github.com/specter-dev/specter/infer"
)

// validService rejects decoded state that the infer code would trip on:
// a JSON null where infer never writes one (an element of a map or slice of
// pointers, a path trie without its root, a parameter without its schema).
// It walks the value generically, so fields infer adds later are checked
// too. A corrupt or hand-edited database is an error, never a crash.
func validService(s *infer.Service) error {
	if s.Trie == nil || s.Trie.Root == nil {
		return fmt.Errorf("no path trie")
	}
	for i, params := range s.Ops {
		if params == nil {
			return fmt.Errorf("operation %d: null", i)
		}
		for _, m := range []map[string]*infer.Param{params.Query, params.Headers, params.Cookies} {
			for name, p := range m {
				if p != nil && p.Schema == nil {
					return fmt.Errorf("%s parameter %q has no schema", params.Method, name)
				}
			}
		}
	}
	for name, g := range s.GRPC {
		if g == nil {
			continue // walkNoNull names it
		}
		for mname, gm := range g.Methods {
			if gm == nil {
				continue
			}
			if err := gm.Request.Validate(); err != nil {
				return fmt.Errorf("gRPC method %s/%s request: %w", name, mname, err)
			}
			if err := gm.Response.Validate(); err != nil {
				return fmt.Errorf("gRPC method %s/%s response: %w", name, mname, err)
			}
		}
	}
	if err := walkNoNull(reflect.ValueOf(s).Elem(), 0); err != nil {
		return fmt.Errorf("service%w", err)
	}
	return nil
}

// maxStateDepth bounds the walk; encoding/json itself stops at 10000
// nested levels.
const maxStateDepth = 10000

// walkNoNull returns an error naming the path (".Field[key][3]") of the
// first null it finds in a map or slice of v. The path is built only on
// error, as the walk unwinds.
func walkNoNull(v reflect.Value, depth int) error {
	if depth > maxStateDepth {
		return fmt.Errorf(": nested too deep")
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return walkNoNull(v.Elem(), depth+1)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if !t.Field(i).IsExported() {
				continue
			}
			if err := walkNoNull(v.Field(i), depth+1); err != nil {
				return fmt.Errorf(".%s%w", t.Field(i).Name, err)
			}
		}
	case reflect.Map:
		if !holdsPointers(v.Type().Elem()) {
			return nil
		}
		iter := v.MapRange()
		for iter.Next() {
			e := iter.Value()
			if e.Kind() == reflect.Pointer && e.IsNil() {
				return fmt.Errorf("[%v]: null", iter.Key())
			}
			if err := walkNoNull(e, depth+1); err != nil {
				return fmt.Errorf("[%v]%w", iter.Key(), err)
			}
		}
	case reflect.Slice, reflect.Array:
		if !holdsPointers(v.Type().Elem()) {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if e.Kind() == reflect.Pointer && e.IsNil() {
				return fmt.Errorf("[%d]: null", i)
			}
			if err := walkNoNull(e, depth+1); err != nil {
				return fmt.Errorf("[%d]%w", i, err)
			}
		}
	}
	return nil
}

// holdsPointers reports whether values of t may hold a pointer to check.
func holdsPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Interface:
		return true
	}
	return false
}
