package infer

import (
	"github.com/specter-dev/specter/infer/template"
)

// PathExplanation says, for one service, which template a concrete path
// falls under and why each of its segments is a literal or a parameter.
type PathExplanation struct {
	Service string `json:"service"`
	Path    string `json:"path"`
	// Template is "" when the service never saw the path.
	Template string                 `json:"template"`
	Segments []template.Explanation `json:"segments"`
	// Methods are the methods observed under Template.
	Methods []string `json:"methods,omitempty"`
}

// Explain explains a concrete path in every service that observed it
// (only service when it is not ""), with the same priors and static
// values as the inventory's templates. It decides the service's
// templates again, so it costs what an export of that service does.
func (m *Model) Explain(service, path string) []PathExplanation {
	var out []PathExplanation
	for _, name := range m.Services() {
		if service != "" && name != service {
			continue
		}
		svc := m.ByName[name]
		tmpl, segs := svc.Trie.Explain(m.templateOptions(svc), path)
		if tmpl == "" {
			continue
		}
		e := PathExplanation{Service: name, Path: path, Template: tmpl, Segments: segs}
		for _, ep := range m.endpoints(svc) {
			if ep.tmpl.Path == tmpl {
				e.Methods = sortedKeys(ep.ops)
			}
		}
		out = append(out, e)
	}
	return out
}
