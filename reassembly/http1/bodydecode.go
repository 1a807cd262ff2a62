package http1

import (
	"net/http"

	"github.com/specter-dev/specter/reassembly/message"
)

// DecodeBody makes the body of a message framed elsewhere (an HTTP/2
// message) as the parser makes its own: the Content-Encoding of h is
// undone when the body is first read, through the parser's Decoding,
// with the same codings and bounds (MaxBody, MaxDecoded, MaxCodings).
// flags says how complete raw was on the wire (FlagBodyTruncated,
// FlagGap, FlagIncomplete). It returns the body, the message's flags
// (with FlagCodingsCapped when it applies) and the anomalies; an empty
// body for an empty raw. With Config.Decode off, or no coding, the body
// is raw. The parser must not be fed while this runs; one that is never
// fed can serve as a decoder alone.
func (p *Parser) DecodeBody(h http.Header, raw []byte, flags message.Flags) (message.Body, message.Flags, []string) {
	if len(raw) == 0 {
		return message.Body{}, flags, nil
	}
	if len(h["Content-Encoding"]) == 0 {
		return message.NewBody(raw, 0), flags, nil
	}
	saved := p.flags
	p.flags, p.anomalies = flags, nil
	p.codings = p.codings[:0]
	p.contentCodings(h)
	flags = p.flags
	b := message.NewBody(raw, 0)
	if p.cfg.Decode && len(p.codings) > 0 && !flags.Has(message.FlagCodingsCapped) {
		b = p.cfg.Decoding.Body(raw, p.codings, flags)
	}
	a := p.anomalies
	clear(p.codings)
	p.codings, p.anomalies, p.flags = p.codings[:0], nil, saved
	return b, flags, a
}
