package diff

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	oasyaml "github.com/oasdiff/yaml"
	"gopkg.in/yaml.v3"
)

// Spec is one declared API document, loaded and converted to OpenAPI 3.
type Spec struct {
	// File is the path the spec was loaded from.
	File string
	// Doc is the document (Swagger 2.0 converted with openapi2conv).
	Doc *openapi3.T
	// Hosts are the services the spec describes, lower-cased host[:port]
	// from its servers (or host), or as set with AttachTo. Empty means every
	// service.
	Hosts []string
	// Bases are the server base paths ("" for the root), longest first;
	// a request path must start with one of them to match.
	Bases []string
	// Servers are the server URLs Hosts and Bases come from, as written
	// (or "--spec-host HOST" after AttachTo), for reports.
	Servers []string

	// lines maps "METHOD /path" (as written under paths) to the line of
	// the operation in File, for locating findings; 0 when unknown.
	lines  map[string]int
	trie   *node
	legacy *openapi3.T
	// paths are the declared paths this spec covers: nil for all of
	// Doc's, a subset for the views Split makes.
	paths []string
	// bsegs are the segments of each base path.
	bsegs map[string][]string
}

// baseSegs returns the segments of one of the spec's base paths.
func (s *Spec) baseSegs(b string) []string {
	if segs, ok := s.bsegs[b]; ok {
		return segs
	}
	segs := splitPath(b)
	if s.bsegs == nil {
		s.bsegs = map[string][]string{}
	}
	if len(s.bsegs) < 64 {
		s.bsegs[b] = segs
	}
	return segs
}

// Paths returns the declared paths the spec covers, in kin-openapi's
// matching order.
func (s *Spec) Paths() []string {
	if s.paths != nil {
		return s.paths
	}
	return s.Doc.Paths.InMatchingOrder()
}

// Split returns one spec per set of servers when path items declare their
// own servers (as `specter export` does for several services in one
// document): each covers the paths under those servers, attached to their
// hosts. Without path-level servers it returns s alone.
func (s *Spec) Split() []*Spec {
	groups := map[string][]string{}
	lists := map[string]openapi3.Servers{}
	var keys []string
	for _, p := range s.Doc.Paths.InMatchingOrder() {
		list := pathServers(s.Doc.Paths.Value(p))
		if loopbackOnly(list) {
			// A path or operation naming only this machine (a local
			// development URL) names no deployment: it is served where
			// the document is.
			list = nil
		}
		var urls []string
		for _, srv := range list {
			urls = append(urls, srv.URL)
		}
		sort.Strings(urls)
		k := strings.Join(urls, " ")
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
			lists[k] = list
		}
		groups[k] = append(groups[k], p)
	}
	if len(keys) == 1 && keys[0] == "" {
		return []*Spec{s}
	}
	sort.Strings(keys)
	var out []*Spec
	for _, k := range keys {
		v := &Spec{File: s.File, Doc: s.Doc, lines: s.lines, paths: groups[k]}
		list := lists[k]
		if k == "" {
			list = s.Doc.Servers
		}
		v.Hosts, v.Bases = servers(list)
		v.Servers = serverURLs(list)
		v.trie = newTrie(s.Doc, v.paths)
		out = append(out, v)
	}
	return out
}

// pathServers returns the servers a path item declares, or, when it
// declares none, those its operations declare (their union): a document
// whose operations name hosts is for those hosts, not for every service.
func pathServers(item *openapi3.PathItem) openapi3.Servers {
	if item == nil {
		return nil
	}
	var out openapi3.Servers
	seen := map[string]bool{}
	add := func(list openapi3.Servers) {
		for _, srv := range list {
			if srv != nil && !seen[srv.URL] {
				seen[srv.URL] = true
				out = append(out, srv)
			}
		}
	}
	add(item.Servers)
	if len(out) > 0 {
		return out
	}
	for _, m := range sortedMethods(item) {
		if op := item.GetOperation(m); op != nil && op.Servers != nil {
			add(*op.Servers)
		}
	}
	return out
}

// loopbackOnly reports whether every server of a non-empty list names a
// loopback host (localhost, 127.0.0.0/8, ::1, 0.0.0.0).
func loopbackOnly(list openapi3.Servers) bool {
	if len(list) == 0 {
		return false
	}
	for _, srv := range list {
		if srv == nil {
			continue
		}
		u, err := url.Parse(srv.URL)
		if err != nil {
			return false
		}
		h := u.Hostname()
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			continue
		}
		ip, err := netip.ParseAddr(h)
		if err != nil || !(ip.IsLoopback() || ip.IsUnspecified()) {
			return false
		}
	}
	return true
}

// sortedMethods returns the methods of a path item's operations, sorted.
func sortedMethods(item *openapi3.PathItem) []string {
	var ms []string
	for m := range item.Operations() {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	return ms
}

// serverURLs returns the URLs of servers, as written.
func serverURLs(list openapi3.Servers) []string {
	var out []string
	for _, srv := range list {
		if srv != nil {
			out = append(out, srv.URL)
		}
	}
	return out
}

// legacyView returns the document as seen by kin-openapi's built-in (3.0)
// validator: a shallow copy with the version set to 3.0.3.
func (s *Spec) legacyView() *openapi3.T {
	if s.legacy == nil {
		d := *s.Doc
		d.OpenAPI = "3.0.3"
		s.legacy = &d
	}
	return s.legacy
}

// AttachTo makes the spec describe exactly the given hosts, overriding its
// servers (as --spec-host does).
func (s *Spec) AttachTo(hosts ...string) {
	s.Hosts, s.Servers = nil, nil
	for _, h := range hosts {
		s.Hosts = append(s.Hosts, normHost(h))
		s.Servers = append(s.Servers, "--spec-host "+normHost(h))
	}
}

// Line returns the line of an operation (method, declared path without base)
// in the spec file, or 0.
func (s *Spec) Line(method, path string) int {
	return s.lines[strings.ToUpper(method)+" "+path]
}

// SpecFiles expands p to the spec files it names: p itself when it is a
// file, else every .yaml, .yml and .json file under the directory, sorted.
func SpecFiles(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				out = append(out, path)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// ErrNotSpec is returned for a YAML or JSON document that has neither an
// "openapi" nor a "swagger" version field.
var ErrNotSpec = errors.New(`neither an OpenAPI 3 ("openapi: 3.x") nor a Swagger 2.0 ("swagger: '2.0'") document`)

// LoadSpecs loads every spec named by paths (files or directories), split
// by path-level servers (see Split). In a directory, YAML and JSON files
// that are not specs are skipped.
func LoadSpecs(paths ...string) ([]*Spec, error) {
	var out []*Spec
	for _, p := range paths {
		files, err := SpecFiles(p)
		if err != nil {
			return nil, fmt.Errorf("spec %s: %w", p, err)
		}
		for _, f := range files {
			s, err := LoadSpec(f)
			if errors.Is(err, ErrNotSpec) && f != p {
				continue // other YAML/JSON beside specs in a directory
			}
			if err != nil {
				return nil, err
			}
			out = append(out, s.Split()...)
		}
	}
	return out, nil
}

// LoadSpec loads an OpenAPI 3.0/3.1 document (YAML or JSON, with $refs to
// local files) or a Swagger 2.0 document (converted to OpenAPI 3). Errors
// name the file and, where the parser says, the line or the field.
func LoadSpec(file string) (*Spec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// yaml.v3 errors carry "line N".
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var probe struct {
		Swagger string `yaml:"swagger"`
		OpenAPI string `yaml:"openapi"`
	}
	if err := root.Decode(&probe); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var doc *openapi3.T
	switch {
	case strings.HasPrefix(probe.Swagger, "2"):
		doc, err = loadV2(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	case probe.OpenAPI != "":
		loader := openapi3.NewLoader()
		loader.IsExternalRefsAllowed = true
		loader.ReadFromURIFunc = readLocal
		doc, err = loadV3(loader, file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	default:
		return nil, fmt.Errorf("%s: %w", file, ErrNotSpec)
	}
	if doc.Paths == nil {
		return nil, fmt.Errorf("%s: no paths", file)
	}
	s := &Spec{File: file, Doc: doc, lines: operationLines(&root)}
	s.Hosts, s.Bases = servers(doc.Servers)
	s.Servers = serverURLs(doc.Servers)
	s.trie = newTrie(doc, nil)
	return s, nil
}

// loadV2 converts a Swagger 2.0 document. kin's Swagger 2 types decode
// from JSON only; oasdiff/yaml converts YAML to JSON with the non-string
// keys YAML allows (unquoted status codes, "200:") as strings, where
// encoding/json refuses the map[any]any a generic YAML decode gives.
func loadV2(data []byte) (doc *openapi3.T, err error) {
	// openapi2conv dereferences what it assumes present (a null path
	// item): its panics on malformed input become errors.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("converting Swagger 2.0: malformed document (%v)", r)
		}
	}()
	js, err := oasyaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("swagger 2.0 as JSON: %w", err)
	}
	var v2 openapi2.T
	if err := json.Unmarshal(js, &v2); err != nil {
		return nil, fmt.Errorf("swagger 2.0: %w", err)
	}
	doc, err = openapi2conv.ToV3(&v2)
	if err != nil {
		return nil, fmt.Errorf("converting Swagger 2.0: %w", err)
	}
	return doc, nil
}

// loadV3 loads an OpenAPI 3 document, turning a panic of the loader on
// malformed input into an error.
func loadV3(loader *openapi3.Loader, file string) (doc *openapi3.T, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("malformed document (%v)", r)
		}
	}()
	return loader.LoadFromFile(file)
}

// operationLines finds the line of every operation under paths.
func operationLines(root *yaml.Node) map[string]int {
	out := map[string]int{}
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	paths := mapValue(doc, "paths")
	if paths == nil || paths.Kind != yaml.MappingNode {
		return out
	}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		p, item := paths.Content[i].Value, paths.Content[i+1]
		if item.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k := item.Content[j]
			if methodSet[strings.ToUpper(k.Value)] {
				out[strings.ToUpper(k.Value)+" "+p] = k.Line
			}
		}
	}
	return out
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

var methodSet = map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true, "PATCH": true, "HEAD": true, "OPTIONS": true, "TRACE": true}

// servers returns the hosts and base paths servers name. Server URL
// variables take their default, and every enum value too.
func servers(list openapi3.Servers) (hosts, bases []string) {
	seenH, seenB := map[string]bool{}, map[string]bool{}
	for _, srv := range list {
		if srv == nil {
			continue
		}
		for _, raw := range expandServer(srv) {
			u, err := url.Parse(raw)
			if err != nil {
				continue
			}
			if h := normHost(u.Host); h != "" && !seenH[h] {
				seenH[h] = true
				hosts = append(hosts, h)
			}
			b := strings.TrimRight(u.Path, "/")
			if !seenB[b] {
				seenB[b] = true
				bases = append(bases, b)
			}
		}
	}
	if len(bases) == 0 {
		bases = []string{""}
	}
	sort.Slice(bases, func(i, j int) bool {
		if len(bases[i]) != len(bases[j]) {
			return len(bases[i]) > len(bases[j])
		}
		return bases[i] < bases[j]
	})
	return hosts, bases
}

// expandServer substitutes server variables: the default, and each enum
// value, bounded so a hostile spec cannot multiply URLs.
func expandServer(srv *openapi3.Server) []string {
	urls := []string{srv.URL}
	names := make([]string, 0, len(srv.Variables))
	for k := range srv.Variables {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := srv.Variables[k]
		if v == nil {
			continue
		}
		vals := []string{v.Default}
		for _, e := range v.Enum {
			if e != v.Default {
				vals = append(vals, e)
			}
		}
		var next []string
		for _, u := range urls {
			for _, val := range vals {
				if len(next) < 64 {
					next = append(next, strings.ReplaceAll(u, "{"+k+"}", val))
				}
			}
		}
		urls = next
	}
	return urls
}

// normHost lower-cases a host and drops a default port and a trailing dot,
// the way infer.ServiceName names services.
func normHost(h string) string {
	h = strings.TrimSpace(strings.ToLower(h))
	h = strings.TrimSuffix(strings.TrimSuffix(h, ":80"), ":443")
	return strings.TrimSuffix(h, ".")
}

// stripPort returns host without a :port.
func stripPort(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i]
	}
	return h
}

// ParseSpecHost parses a --spec-host value "HOST=FILE".
func ParseSpecHost(v string) (host, file string, err error) {
	host, file, ok := strings.Cut(v, "=")
	if !ok || host == "" || file == "" {
		return "", "", errors.New("want HOST=FILE")
	}
	return normHost(host), file, nil
}

// readLocal resolves $refs to local files only: a spec must not make the
// analyzer fetch URLs.
func readLocal(l *openapi3.Loader, u *url.URL) ([]byte, error) {
	if u.Scheme != "" && u.Scheme != "file" || u.Host != "" {
		return nil, fmt.Errorf("$ref %s: only references to local files are followed", u.Redacted())
	}
	return openapi3.ReadFromFile(l, u)
}
