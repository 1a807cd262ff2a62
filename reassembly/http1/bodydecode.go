package http1

import (
	"net/http"

	"github.com/specter-dev/specter/reassembly/message"
)

// DecodeBody undoes the Content-Encoding of h on a body that was framed
// elsewhere (an HTTP/2 message), exactly as the parser does for its own
// messages: the same codings, bounds (MaxBody, MaxDecoded, MaxCodings),
// pooled decompressors and Stats. flags says how complete raw was on the
// wire (FlagBodyTruncated, FlagGap, FlagIncomplete). It returns the body,
// whose Flags are what decoding found, the message's flags (with
// FlagCodingsCapped when it applies) and the anomalies; nil for an empty
// raw. With Config.Decode off, or no coding, the body is raw. The parser
// must not be fed while this runs; one that is never fed can serve as a
// decoder alone.
func (p *Parser) DecodeBody(h http.Header, raw []byte, flags message.Flags) (*message.Body, message.Flags, []string) {
	if len(raw) == 0 {
		return nil, flags, nil
	}
	if len(h["Content-Encoding"]) == 0 {
		return message.NewBody(raw, 0), flags, nil
	}
	saved := p.flags
	p.flags, p.anomalies = flags, nil
	p.codings = p.codings[:0]
	p.contentCodings(h)
	flags = p.flags
	body, decoded := raw, flags
	if p.cfg.Decode && len(p.codings) > 0 && !flags.Has(message.FlagCodingsCapped) {
		body, decoded = p.decode(raw, flags)
		if decoded.Has(message.FlagDecodeError) {
			p.stats.DecodeErrors++
		}
		if decoded.Has(message.FlagBombCut) {
			p.stats.BombsCut++
		}
	}
	a := p.anomalies
	clear(p.codings)
	p.codings, p.anomalies, p.flags = p.codings[:0], nil, saved
	return message.NewBody(body, decoded&^flags), flags, a
}
