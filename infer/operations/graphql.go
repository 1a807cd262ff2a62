package operations

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// document is what one parsed GraphQL document gives, per operation.
type document struct {
	ops []docOp
	// err is the parse or bound error of the document, if any.
	err error
}

type docOp struct {
	typ, name     string
	fields        []Field
	vars          []Variable
	introspection bool
	text          string // the operation and the document's fragments, literals blanked
}

func hasPersisted(ext json.RawMessage) bool { return persistedHash(ext) != "" }

// persistedHash is extensions.persistedQuery.sha256Hash when it is a hex
// string of 16 to 128 digits.
func persistedHash(ext json.RawMessage) string {
	if !present(ext) || ext[0] != '{' {
		return ""
	}
	var e struct {
		PersistedQuery struct {
			Hash string `json:"sha256Hash"`
		} `json:"persistedQuery"`
	}
	if json.Unmarshal(ext, &e) != nil {
		return ""
	}
	h := strings.ToLower(e.PersistedQuery.Hash)
	if len(h) < 16 || len(h) > 128 {
		return ""
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return ""
		}
	}
	return h
}

// IsName reports whether s is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*) of
// at most 128 bytes.
func IsName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// graphQLCalls is the call of one GraphQL request element e.
func (d *Detector) graphQLCalls(e *envelope, where string, l Limits) ([]Call, error) {
	query := jsonString(e.Query)
	opName := jsonString(e.OperationName)
	if present(e.OperationName) && !isString(e.OperationName) {
		return nil, fmt.Errorf("graphql %s: operationName is not a string: %w", where, ErrBad)
	}
	hash := persistedHash(e.Extensions)
	// A lone "query" string that is not a GraphQL document is some other
	// API's search parameter, not a malformed GraphQL request.
	graphQLish := present(e.OperationName) || present(e.Variables) || hash != ""
	c := Call{Protocol: GraphQL, Hash: hash}
	if present(e.Variables) {
		if e.Variables[0] != '{' {
			return nil, fmt.Errorf("graphql %s: variables is not an object: %w", where, ErrBad)
		}
		c.Params = e.Variables
	}
	if query == "" {
		if hash == "" {
			return nil, nil
		}
		c.Type = "persisted"
		c.Name = opName
		if !IsName(opName) {
			c.Name = "persisted-" + hash[:12]
		}
		return []Call{c}, nil
	}
	doc := d.parse(query, l)
	if doc.err != nil {
		if !graphQLish && !isErr(doc.err, ErrTooLarge) && !isErr(doc.err, ErrTooDeep) {
			return nil, nil
		}
		return nil, fmt.Errorf("graphql %s: %w", where, doc.err)
	}
	var op *docOp
	switch {
	case opName != "":
		for i := range doc.ops {
			if doc.ops[i].name == opName {
				op = &doc.ops[i]
			}
		}
		if op == nil {
			return nil, fmt.Errorf("graphql %s: operationName %q is not in the document: %w", where, truncate(opName), ErrBad)
		}
	case len(doc.ops) == 1:
		op = &doc.ops[0]
	default:
		return nil, fmt.Errorf("graphql %s: %d operations and no operationName: %w", where, len(doc.ops), ErrBad)
	}
	c.Type, c.Name = op.typ, op.name
	c.Fields, c.Variables, c.Introspection, c.Document = op.fields, op.vars, op.introspection, op.text
	return []Call{c}, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// parse parses a GraphQL document, through the cache.
func (d *Detector) parse(q string, l Limits) *document {
	if doc, ok := d.docs[q]; ok {
		return doc
	}
	doc := parseDocument(q, l)
	if len(q) <= maxCachedDocBytes {
		if d.docs == nil || len(d.docs) >= maxCachedDocs {
			d.docs = make(map[string]*document)
		}
		d.docs[q] = doc
	}
	return doc
}

// parseDocument parses and summarizes a GraphQL document within l.
func parseDocument(q string, l Limits) *document {
	if len(q) > l.MaxDocumentBytes {
		return &document{err: fmt.Errorf("document of %d bytes (limit %d): %w", len(q), l.MaxDocumentBytes, ErrTooLarge)}
	}
	// Nesting of braces, brackets and parentheses outside strings bounds
	// the parser's recursion before it runs; selection depth is checked
	// exactly below.
	if off, ok := nestingWithin(q, 2*l.MaxDepth+8); !ok {
		return &document{err: fmt.Errorf("nesting past %d at byte %d: %w", 2*l.MaxDepth+8, off, ErrTooDeep)}
	}
	qd, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		return &document{err: fmt.Errorf("%v: %w", err, ErrBad)}
	}
	if len(qd.Operations) == 0 {
		return &document{err: fmt.Errorf("no operation in the document: %w", ErrBad)}
	}
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range qd.Fragments {
		frags[f.Name] = f
	}
	doc := &document{}
	for _, o := range qd.Operations {
		if dep := selectionDepth(o.SelectionSet, frags, 0, l.MaxDepth+1); dep > l.MaxDepth {
			return &document{err: fmt.Errorf("operation %q: selections nested past %d: %w", o.Name, l.MaxDepth, ErrTooDeep)}
		}
		op := docOp{typ: string(o.Operation), name: o.Name}
		if op.typ == "" {
			op.typ = "query"
		}
		seen := map[string]int{}
		topFields(o.SelectionSet, frags, 0, l, func(f *ast.Field) {
			if f.Name == "__schema" || f.Name == "__type" {
				op.introspection = true
			}
			if f.Name == "__typename" {
				return
			}
			i, ok := seen[f.Name]
			if !ok {
				if len(op.fields) >= l.MaxFields {
					return
				}
				i = len(op.fields)
				seen[f.Name] = i
				op.fields = append(op.fields, Field{Name: f.Name})
			}
			for _, a := range f.Arguments {
				if !slices.Contains(op.fields[i].Args, a.Name) {
					op.fields[i].Args = append(op.fields[i].Args, a.Name)
				}
			}
		})
		slices.SortFunc(op.fields, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
		for _, f := range op.fields {
			slices.Sort(f.Args)
		}
		for _, v := range o.VariableDefinitions {
			op.vars = append(op.vars, Variable{Name: v.Variable, Type: v.Type.String()})
		}
		if op.name == "" {
			names := make([]string, 0, len(op.fields))
			for _, f := range op.fields {
				names = append(names, f.Name)
			}
			if op.introspection && len(names) == 0 {
				names = append(names, "__schema")
			}
			sum := sha256.Sum256([]byte(strings.Join(names, ",")))
			op.name = "anonymous-" + hex.EncodeToString(sum[:4])
		}
		op.text = operationText(o, qd.Fragments)
		doc.ops = append(doc.ops, op)
	}
	return doc
}

// nestingWithin reports whether the brackets of q, outside string
// literals and comments, nest at most max deep; else the offset where they
// went past.
func nestingWithin(q string, max int) (int, bool) {
	depth := 0
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '"':
			block := strings.HasPrefix(q[i:], `"""`)
			if block {
				end := strings.Index(q[i+3:], `"""`)
				if end < 0 {
					return 0, true // the parser reports it
				}
				i += 3 + end + 2
				continue
			}
			for i++; i < len(q) && q[i] != '"' && q[i] != '\n'; i++ {
				if q[i] == '\\' {
					i++
				}
			}
		case '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case '{', '[', '(':
			depth++
			if depth > max {
				return i, false
			}
		case '}', ']', ')':
			depth--
		}
	}
	return 0, true
}

// selectionDepth is the nesting depth of a selection set with fragments
// expanded, counting at most to limit (which also stops fragment cycles).
func selectionDepth(ss ast.SelectionSet, frags map[string]*ast.FragmentDefinition, depth, limit int) int {
	if len(ss) == 0 || depth >= limit {
		return depth
	}
	max := depth + 1
	for _, s := range ss {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			d = selectionDepth(s.SelectionSet, frags, depth+1, limit)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, frags, depth, limit)
		case *ast.FragmentSpread:
			if f := frags[s.Name]; f != nil {
				d = selectionDepth(f.SelectionSet, frags, depth+1, limit) - 1
			}
		}
		if d > max {
			max = d
		}
		if max >= limit {
			return max
		}
	}
	return max
}

// topFields calls fn with each field selected at the top level of ss,
// through fragments (spreads count toward the depth bound, so that cycles
// end).
func topFields(ss ast.SelectionSet, frags map[string]*ast.FragmentDefinition, depth int, l Limits, fn func(*ast.Field)) {
	if depth > l.MaxDepth {
		return
	}
	for _, s := range ss {
		switch s := s.(type) {
		case *ast.Field:
			fn(s)
		case *ast.InlineFragment:
			topFields(s.SelectionSet, frags, depth+1, l, fn)
		case *ast.FragmentSpread:
			if f := frags[s.Name]; f != nil {
				topFields(f.SelectionSet, frags, depth+1, l, fn)
			}
		}
	}
}

// operationText formats one operation with the document's fragments, its
// string and number literals blanked so that no value reaches the
// inventory.
func operationText(o *ast.OperationDefinition, frags ast.FragmentDefinitionList) string {
	blankSelections(o.SelectionSet)
	for _, v := range o.VariableDefinitions {
		blankValue(v.DefaultValue)
	}
	blankDirectives(o.Directives)
	for _, f := range frags {
		blankSelections(f.SelectionSet)
		blankDirectives(f.Directives)
	}
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent(" ")).FormatQueryDocument(&ast.QueryDocument{
		Operations: ast.OperationList{o}, Fragments: frags,
	})
	return b.String()
}

func blankSelections(ss ast.SelectionSet) {
	for _, s := range ss {
		switch s := s.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				blankValue(a.Value)
			}
			blankDirectives(s.Directives)
			blankSelections(s.SelectionSet)
		case *ast.InlineFragment:
			blankDirectives(s.Directives)
			blankSelections(s.SelectionSet)
		case *ast.FragmentSpread:
			blankDirectives(s.Directives)
		}
	}
}

func blankDirectives(ds ast.DirectiveList) {
	for _, d := range ds {
		for _, a := range d.Arguments {
			blankValue(a.Value)
		}
	}
}

func blankValue(v *ast.Value) {
	if v == nil {
		return
	}
	// Literals become the zero of their kind: still valid where the
	// original was, so the document validates as sent, without the value
	// (a card number may be an Int literal as well as a string).
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		v.Kind, v.Raw = ast.StringValue, ""
	case ast.IntValue:
		v.Raw = "0"
	case ast.FloatValue:
		v.Raw = "0.0"
	}
	for _, c := range v.Children {
		blankValue(c.Value)
	}
}
