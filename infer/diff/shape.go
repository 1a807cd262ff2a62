package diff

// jsonShape hashes the structure of a JSON document: object keys, value
// kinds (string, integer, number, boolean, null) and nesting, not the
// values. It reports false for what does not scan as JSON. It does not
// allocate.
func jsonShape(b []byte) (uint64, bool) {
	h := fnvOffset
	put := func(c byte) { h = fnvByte(h, c) }
	depth := 0
	i := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case c == '{' || c == '[' || c == '}' || c == ']':
			if c == '{' || c == '[' {
				depth++
			} else {
				depth--
			}
			if depth < 0 || depth > 64 {
				return 0, false
			}
			put(c)
			i++
		case c == '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(b) {
				return 0, false
			}
			// A key is followed by ':'; keys are structure, values are not.
			k := j + 1
			for k < len(b) && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r') {
				k++
			}
			if k < len(b) && b[k] == ':' {
				for _, c := range b[i : j+1] {
					h = fnvByte(h, c)
				}
				put(':')
				i = k + 1
			} else {
				put('s')
				i = j + 1
			}
		case c == '-' || c >= '0' && c <= '9':
			kind := byte('i')
			for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] >= '0' && b[i] <= '9') {
				if b[i] == '.' || b[i] == 'e' || b[i] == 'E' {
					kind = 'n'
				}
				i++
			}
			put(kind)
		case c == 't' || c == 'f' || c == 'n':
			if c == 'n' {
				put('z') // null ('n' is a non-integer number)
			} else {
				put('b') // true and false: one kind
			}
			for i < len(b) && b[i] >= 'a' && b[i] <= 'z' {
				i++
			}
		default:
			return 0, false
		}
	}
	return h, depth == 0
}
