package message

import "testing"

func TestFlagsString(t *testing.T) {
	tests := []struct {
		f    Flags
		want string
	}{
		{0, ""},
		{FlagGap, "gap"},
		{FlagBodyTruncated | FlagBombCut, "truncated|bomb-cut"},
		{FlagCodingsCapped | 1<<12, "codings-capped|0x1000"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint16(tt.f), got, tt.want)
		}
	}
}

// A message without a body reads as empty, and AllFlags adds what
// decoding found to what the parser knew.
func TestBodyAndAllFlags(t *testing.T) {
	var nilBody *Body
	if nilBody.Bytes() != nil || nilBody.Flags() != 0 {
		t.Errorf("nil Body: %q %v", nilBody.Bytes(), nilBody.Flags())
	}
	r := &Request{Flags: FlagChunked}
	if r.AllFlags() != FlagChunked {
		t.Errorf("no body: AllFlags %v", r.AllFlags())
	}
	r.Body = NewBody([]byte("x"), FlagDecodeError)
	if got := r.AllFlags(); got != FlagChunked|FlagDecodeError {
		t.Errorf("AllFlags = %v", got)
	}
	s := &Response{Body: NewBody([]byte("y"), 0), Flags: FlagGap}
	if string(s.Body.Bytes()) != "y" || s.AllFlags() != FlagGap {
		t.Errorf("response: %q %v", s.Body.Bytes(), s.AllFlags())
	}
}
