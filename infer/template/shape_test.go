package template

import "testing"

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shape
	}{
		{"", ShapeEmpty},
		{"users", ShapeWord},
		{"me", ShapeWord},
		{"findByStatus", ShapeWord},
		{"recently-played", ShapeWord},
		{"create_folder", ShapeWord},
		{":token", ShapeWord},
		{"oauth2", ShapeWord},
		{"ipv4", ShapeWord},
		{"v1", ShapeVersion},
		{"v2beta1", ShapeVersion},
		{"2.0", ShapeVersion},
		{"1.2.3", ShapeVersion},
		{"42", ShapeInteger},
		{"0", ShapeInteger},
		{"123456789012345", ShapeInteger},
		{"1234567890123456789", ShapeToken},
		{"9b2e8f4c-3d1a-4e5b-8c7d-6f5e4d3c2b1a", ShapeUUID},
		{"9B2E8F4C-3D1A-1E5B-8C7D-6F5E4D3C2B1A", ShapeUUID},
		{"3f2a9c1", ShapeHex},
		{"507f1f77bcf86cd799439011", ShapeHex},
		{"da39a3ee5e6b4b0d3255bfef95601890afd80709", ShapeHex},
		{"AC0123456789abcdef0123456789abcdef", ShapeHex},
		{"2024-01-31", ShapeDate},
		{"2024-01-31T10:00:00Z", ShapeDateTime},
		{"ann@example.com", ShapeEmail},
		{"cus_8sJd2KqLmN", ShapePrefixed},
		{"t_LZuD2kxL3vPxVDTW", ShapePrefixed},
		{"ord_123456", ShapePrefixed},
		{"<redacted:card>", ShapeToken}, // secrets are replaced by markers before the trie
		{"<redacted:jwt>", ShapeToken},
		{"6rqhFgbbKwnb9MLmUQDhG6", ShapeToken},
		{"xr1hg12hr9zjli2wd55ibtvd0k", ShapeToken},
		{"eyJhbGciOiJIUzI1NiJ9-abc_def123456789", ShapeToken},
		{"a%20b%2Fc1", ShapeToken},
		{"alice42", ShapeName},
		{"bob_xop66", ShapeName},
		{"ops-959", ShapeName},
		{"cli-4", ShapeName},
		{"daveocto5", ShapeName},
		{"12-34", ShapeName},
		{"ann%40example.com", ShapeEmail},
		{"trent9043%40example.com", ShapeEmail},
		{"oauth.v2.access", ShapeWord},
		{"admin.v1beta1.list", ShapeWord},
		{"reporting.job.7", ShapeName},
	} {
		if got := Classify(tc.in); got != tc.want {
			t.Errorf("Classify(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSplitExt(t *testing.T) {
	for _, tc := range []struct{ in, stem, ext string }{
		{"42.json", "42", ".json"},
		{"ann%40example.com", "ann%40example.com", ""},
		{"report-1.tar.gz", "report-1.tar", ".gz"},
		{"users", "users", ""},
		{"2.0", "2.0", ""},
		{".hidden", ".hidden", ""},
		{"a@b.com", "a@b.com", ""},
		{"x.toolongext", "x.toolongext", ""},
		{"x.", "x.", ""},
	} {
		stem, ext := SplitExt(tc.in)
		if stem != tc.stem || ext != tc.ext {
			t.Errorf("SplitExt(%q) = %q, %q; want %q, %q", tc.in, stem, ext, tc.stem, tc.ext)
		}
	}
}

func TestSplitVerb(t *testing.T) {
	for _, tc := range []struct{ in, stem, verb string }{
		{"key_8sJd2KqLmN:disable", "key_8sJd2KqLmN", ":disable"},
		{"42:cancel", "42", ":cancel"},
		{"alice42:batchGet", "alice42", ":batchGet"},
		{"users:search", "users:search", ""}, // a word stem: a literal route
		{":token", ":token", ""},
		{"42:", "42:", ""},
		{"42:x", "42:x", ""},
		{"42:v1", "42:v1", ""},
		{"nginx:latest", "nginx:latest", ""},
	} {
		stem, verb := SplitVerb(tc.in)
		if stem != tc.stem || verb != tc.verb {
			t.Errorf("SplitVerb(%q) = %q, %q; want %q, %q", tc.in, stem, verb, tc.stem, tc.verb)
		}
	}
}

func TestRandomCase(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"jiKF", true}, {"tsI", true}, {"5JDl", true}, {"qW3x", true}, {"hTkB", true},
		{"iPhone", false}, {"byName", false}, {"HTTP", false}, {"OAuth", false},
		{"me", false}, {"users", false}, {"Primary", false}, {"aB", false}, {"ab-Cd", false},
		{"longerTokenQX", false},
	} {
		if got := randomCase(tc.in); got != tc.want {
			t.Errorf("randomCase(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
