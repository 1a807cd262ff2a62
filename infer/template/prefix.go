package template

import "strings"

// Literal prefixes inside a segment. A value glued to a route word by a
// dot (stream.mp4-hd beside the route stream: /audio/{id}/stream.{container})
// is the route's value, not a name of its own: when the word before the
// first dot is a route word at the same position, it is kept as a
// literal prefix of the parameter, and the values are what follows it.

// dottedPrefixes sets the prefix of the candidates that are a sibling
// word, a dot and a value, and classifies them by the value.
func dottedPrefixes(cands []*cand) {
	var words map[string]bool
	for _, c := range cands {
		if c.overflow || c.ext != "" || c.pre != "" {
			continue
		}
		i := strings.IndexByte(c.key, '.')
		if i <= 0 || i == len(c.key)-1 {
			continue
		}
		if words == nil {
			words = map[string]bool{}
			for _, s := range cands {
				if !s.overflow && s.ext == "" && s.shape == ShapeWord && strings.IndexByte(s.key, '.') < 0 {
					words[s.key] = true
				}
			}
		}
		if head := c.key[:i]; words[head] {
			c.pre, c.stem = head+".", c.key[i+1:]
			c.shape = Classify(c.stem)
		}
	}
}

// groupKey is the key grouping candidates into parameters: the literal
// prefix and the suffix they share.
func groupKey(c *cand, ext string) string {
	if c.pre == "" {
		return ext
	}
	return c.pre + "\x00" + ext
}

// splitGroupKey returns the prefix and suffix of a groupKey.
func splitGroupKey(k string) (pre, ext string) {
	if p, e, ok := strings.Cut(k, "\x00"); ok {
		return p, e
	}
	return "", k
}
