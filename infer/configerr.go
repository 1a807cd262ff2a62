package infer

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports decoding errors in Go terms ("cannot unmarshal !!map
// into []infer.ServiceConfig", "field servces not found in type
// infer.Config"). configError rewrites them in the terms of the file: the
// line, the key's path in the document, and what kind of value was
// expected.
var (
	notFoundRe  = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)
	unmarshalRe = regexp.MustCompile(`^line (\d+): cannot unmarshal (!!\w+)(?: ` + "`" + `(.*)` + "`" + `)? into (.+)$`)
)

// configError turns a yaml.v3 decoding error of src into one naming lines
// and keys. Errors it does not recognize are returned as they are.
func configError(src []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return err
	}
	ix := lineIndex{keys: map[int]string{}, values: map[int][]valueAt{}}
	ix.add(&root, "")
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		msgs = append(msgs, ix.describe(e))
	}
	return errors.New(strings.Join(msgs, "; "))
}

// lineIndex finds the key a yaml.v3 message is about from its line: keys
// holds the innermost key on each line (unknown-field messages give the
// key's line), values the values starting on each line, outermost first
// (type messages give the value's line and tag).
type lineIndex struct {
	keys   map[int]string
	values map[int][]valueAt
}

type valueAt struct {
	path, tag string
}

func (ix *lineIndex) add(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			ix.add(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			ix.keys[k.Line] = p
			ix.values[v.Line] = append(ix.values[v.Line], valueAt{p, v.ShortTag()})
			ix.add(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			ix.values[c.Line] = append(ix.values[c.Line], valueAt{p, c.ShortTag()})
			ix.add(c, p)
		}
	}
}

// describe rewrites one of yaml.v3's messages.
func (ix *lineIndex) describe(msg string) string {
	if m := notFoundRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		key := m[2]
		if p := ix.keys[line]; p != "" {
			key = p
		}
		return fmt.Sprintf("line %d: unknown key %q", line, key)
	}
	if m := unmarshalRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		got := tagKind(m[2])
		if m[3] != "" {
			got += " (" + strconv.Quote(m[3]) + ")"
		}
		where := fmt.Sprintf("line %d", line)
		for _, v := range ix.values[line] {
			if v.tag == m[2] {
				where += ": " + strconv.Quote(v.path)
				break
			}
		}
		return fmt.Sprintf("%s must be %s, not %s", where, goKind(m[4]), got)
	}
	return msg
}

// tagKind names a YAML tag for people.
func tagKind(tag string) string {
	switch tag {
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	case "!!null":
		return "empty"
	}
	return strings.TrimPrefix(tag, "!!")
}

// goKind names the YAML shape a Go type decodes from.
func goKind(typ string) string {
	switch {
	case strings.HasPrefix(typ, "[]string"):
		return "a list of strings"
	case strings.HasPrefix(typ, "[]"):
		return "a list"
	case strings.HasPrefix(typ, "map["):
		return "a mapping"
	case strings.HasPrefix(typ, "int"), strings.HasPrefix(typ, "uint"):
		return "an integer"
	case strings.HasPrefix(typ, "float"):
		return "a number"
	case typ == "bool":
		return "true or false"
	case typ == "string":
		return "a string"
	case strings.HasPrefix(typ, "struct"), strings.Contains(typ, "."):
		return "a mapping" // a struct
	}
	return "another kind of value"
}
