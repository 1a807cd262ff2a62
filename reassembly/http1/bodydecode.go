package http1

import "net/http"

// DecodeBody undoes the Content-Encoding of h on a body that was framed
// elsewhere (an HTTP/2 message), exactly as the parser does for its own
// messages: the same codings, bounds (MaxBody, MaxDecoded, MaxCodings),
// pooled decompressors and Stats. flags says how complete the body was
// (FlagBodyTruncated, FlagGap, FlagIncomplete); the flags returned add
// FlagDecodeError, FlagBombCut or FlagCodingsCapped as they apply, with
// the anomalies. With Config.Decode off, or no coding, body is returned
// as it is. The parser must not be fed while this runs; one that is
// never fed can serve as a decoder alone.
func (p *Parser) DecodeBody(h http.Header, body []byte, flags Flags) ([]byte, Flags, []string) {
	if len(h["Content-Encoding"]) == 0 || len(body) == 0 {
		return body, flags, nil
	}
	saved := p.flags
	p.flags, p.anomalies = flags, nil
	p.codings = p.codings[:0]
	p.contentCodings(h)
	flags = p.flags
	if p.cfg.Decode && len(p.codings) > 0 && !flags.Has(FlagCodingsCapped) {
		body, flags = p.decode(body, flags)
		if flags.Has(FlagDecodeError) {
			p.stats.DecodeErrors++
		}
		if flags.Has(FlagBombCut) {
			p.stats.BombsCut++
		}
	}
	a := p.anomalies
	clear(p.codings)
	p.codings, p.anomalies, p.flags = p.codings[:0], nil, saved
	return body, flags, a
}
