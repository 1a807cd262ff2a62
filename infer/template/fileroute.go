package template

import "strings"

// File routes. Values with several extensions after one route word are
// file names: the extension is part of the value (/attachments/{filename}).
// One parent holding a single file shows one extension only, so the
// evidence is taken across the tree: a route word whose values carry
// several extensions, in one place or over several, takes file names
// wherever it occurs (/invoices/{id}/attachments/a.pdf, b.md beside
// /receipts/{id}/attachments/c.md).

// fileRoutes returns the route words followed, across the tree, by
// variable values with two or more distinct file extensions.
func fileRoutes(root *Node) map[string]bool {
	exts := map[string]map[string]bool{}
	visited := 0
	var visit func(n *Node, key string)
	visit = func(n *Node, key string) {
		visited++
		if visited > maxCollVisit {
			return
		}
		word := -1 // whether key is a route word, decided on first need
		for k, c := range n.Children {
			if strings.IndexByte(k, '.') > 0 && key != "" {
				if word < 0 {
					word = 0
					if Classify(key) == ShapeWord {
						word = 1
					}
				}
				if stem, ext := SplitExt(k); word == 1 && ext != "" && Classify(stem).Variable() {
					if exts[key] == nil {
						exts[key] = map[string]bool{}
					}
					exts[key][ext] = true
				}
			}
			if len(c.Children) > 0 {
				visit(c, k)
			}
		}
	}
	visit(root, "")
	var out map[string]bool
	for k, es := range exts {
		if len(es) >= 2 {
			if out == nil {
				out = map[string]bool{}
			}
			out[k] = true
		}
	}
	return out
}
