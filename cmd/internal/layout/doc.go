// Package layout holds no code: its test checks that the module's imports
// point one way, capture (and bpf) → reassembly → infer → store →
// cmd/internal/pipeline → the commands, so that a lower layer never
// learns about a higher one. The order is declared in layout_test.go.
package layout
