package http1

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/specter-dev/specter/reassembly/message"
)

// maxMethod caps the length of a request method.
const maxMethod = 32

// head collects the start line and header section. When the whole section
// is in data it is parsed in place; otherwise it is gathered in p.buf (at
// most MaxHeaderBytes) and the search for its end resumes where it stopped.
func (p *Parser) head(data []byte, ts time.Time) int {
	limit := p.cfg.MaxHeaderBytes
	if len(p.buf) == 0 {
		end, scan := headerEnd(data, 0)
		if end > 0 && end <= limit {
			p.parseHead(data[:end], ts)
			return end
		}
		if end > limit || len(data) > limit {
			return p.tooLarge(data, min(len(data), limit+1), ts)
		}
		p.buf = append(p.buf, data...)
		p.scan = scan
		return len(data)
	}
	old := len(p.buf)
	take := len(data)
	if room := limit + 1 - old; take > room {
		take = room
	}
	p.buf = append(p.buf, data[:take]...)
	end, scan := headerEnd(p.buf, p.scan)
	if end > 0 && end <= limit {
		p.parseHead(p.buf[:end], ts)
		p.buf = p.buf[:0]
		return end - old
	}
	if end > limit || len(p.buf) > limit {
		p.stats.SkippedBytes += int64(old)
		return p.tooLarge(data, take, ts)
	}
	p.scan = scan
	return take
}

// tooLarge handles a header section past MaxHeaderBytes, of which head
// is in p.buf or, if that is empty, at the start of data; n bytes of it
// are consumed.
func (p *Parser) tooLarge(data []byte, n int, ts time.Time) int {
	if p.msgInSync {
		if len(p.buf) == 0 {
			p.buf = append(p.buf, data[:min(len(data), p.cfg.MaxHeaderBytes)]...)
		}
		p.partialHead()
	}
	if p.req != nil || p.resp != nil {
		p.badHead(ErrHeaderTooLarge, ts)
	} else {
		p.fail(ErrHeaderTooLarge)
	}
	p.stats.SkippedBytes += int64(n)
	p.lineStart = false
	return n
}

// headerEnd finds the end of a header section in b: the index just past
// the first empty line (CRLF or bare LF) that follows a line end. The
// search starts at from; when the end is not found, next is where to resume
// once more bytes are appended.
func headerEnd(b []byte, from int) (end, next int) {
	i := from
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, len(b)
		}
		k := i + j
		if k+1 >= len(b) {
			return -1, k
		}
		switch b[k+1] {
		case '\n':
			return k + 2, 0
		case '\r':
			if k+2 >= len(b) {
				return -1, k
			}
			if b[k+2] == '\n' {
				return k + 3, 0
			}
		}
		i = k + 1
	}
}

// parseHead parses a complete start line and header section, then frames
// the body (RFC 9112 section 6.3).
func (p *Parser) parseHead(hb []byte, ts time.Time) {
	sl := p.sl
	p.sl = startLine{}
	p.seen = 0
	// The start line is checked by its own parser; the fields here, all
	// at once when they are valid (as nearly all are).
	i := bytes.IndexByte(hb, '\n')
	valid := validBlock(hb[i+1:])
	if !valid && !p.msgInSync {
		p.fail(ErrHeaderLine) // most likely not a message at all
		return
	}
	// One string holds every string of the message's head.
	s := string(hb)
	nl := strings.IndexByte(s, '\n')
	first, rest := trimCR(s[:nl]), s[nl+1:]
	nf := strings.Count(rest, "\n") - 1
	nf = max(0, min(nf, maxHeaderFields))
	hdr := make(http.Header, nf)
	if p.role != roleResponse {
		m, t, ok := sl.m, sl.t, sl.kind == roleRequest
		if sl.kind == roleUnknown {
			m, t, ok = parseRequestLine(first)
		}
		if ok {
			// The Request and its header values share one allocation.
			r, strs := newMessage[message.Request](nf)
			err := fieldsErr(p.parseFields(rest, hdr, strs, valid), valid)
			if err != nil && !p.msgInSync {
				p.fail(err)
				return
			}
			p.role = roleRequest
			*r = message.Request{Method: first[:m], Target: first[m+1 : t], Proto: first[t+1:], Header: hdr, RawHeader: rest}
			p.req = r
			p.httpSeen()
			if err != nil {
				p.badHead(err, ts)
				return
			}
			p.frameRequest(p.req, ts)
			return
		}
	}
	if p.role != roleRequest {
		code, ok := sl.code, sl.kind == roleResponse
		if sl.kind == roleUnknown {
			code, ok = parseStatusLine(first)
		}
		if ok {
			r, strs := newMessage[message.Response](nf)
			err := fieldsErr(p.parseFields(rest, hdr, strs, valid), valid)
			if err != nil && !p.msgInSync {
				p.fail(err)
				return
			}
			p.role = roleResponse
			*r = message.Response{Proto: first[:8], StatusCode: code, Reason: reasonPhrase(first), Header: hdr, RawHeader: rest}
			p.resp = r
			p.httpSeen()
			if err != nil {
				p.badHead(err, ts)
				return
			}
			p.frameResponse(p.resp, ts)
			return
		}
	}
	p.fail(ErrStartLine)
}

// fieldsErr is the error of a header section: parseFields' own, or, for a
// block that validBlock rejected, ErrHeaderLine in any case.
func fieldsErr(err error, valid bool) error {
	if err == nil && !valid {
		return ErrHeaderLine
	}
	return err
}

// badHead delivers a message whose start line is valid but whose header
// section is not, with the fields before the bad one: it began where the
// previous message ended, so it is a message, in its place, whose framing
// is unknown (see badFraming). A head found while searching is dropped
// instead: most likely it was not a message at all.
func (p *Parser) badHead(err error, ts time.Time) {
	if r := p.req; r != nil {
		if h := r.Header["Host"]; len(h) > 0 {
			r.Authority = h[0]
		}
		splitTarget(r)
	}
	anomaly := AnomalyMalformedHeader
	switch err {
	case ErrTooManyHeaders:
		p.stats.TooManyFields++
		anomaly = AnomalyTooManyFields
	case ErrHeaderTooLarge:
		p.stats.HeadersTooLarge++
		anomaly = AnomalyHeaderTooLarge
	}
	p.badFraming(anomaly, err, ts)
}

// partialHead builds the message whose head was cut short by a gap or the
// end of the stream, from the complete lines in p.buf, so that it can be
// delivered flagged.
func (p *Parser) partialHead() {
	b := p.buf
	p.buf = p.buf[:0]
	k := bytes.LastIndexByte(b, '\n')
	if k < 0 {
		return
	}
	s := string(b[:k+1])
	nl := strings.IndexByte(s, '\n')
	first, rest := trimCR(s[:nl]), s[nl+1:]
	hdr := http.Header{}
	if m, t, ok := parseRequestLine(first); ok && p.role != roleResponse {
		_ = p.parseFields(rest, hdr, nil, false) // keep the fields before a bad one
		p.req = &message.Request{Method: first[:m], Target: first[m+1 : t], Proto: first[t+1:], Header: hdr, RawHeader: rest}
		if h := hdr["Host"]; len(h) > 0 {
			p.req.Authority = h[0]
		}
		splitTarget(p.req)
		p.httpSeen()
	} else if code, ok := parseStatusLine(first); ok && p.role != roleRequest {
		_ = p.parseFields(rest, hdr, nil, false)
		p.resp = &message.Response{Proto: first[:8], StatusCode: code, Reason: reasonPhrase(first), Header: hdr, RawHeader: rest}
		p.httpSeen()
	}
}

func (p *Parser) httpSeen() {
	if !p.sentHTTP1 {
		p.sentHTTP1 = true
		p.h.Protocol(ProtoHTTP1)
	}
}

func (p *Parser) frameRequest(r *message.Request, ts time.Time) {
	if p.seen&seenHost != 0 {
		r.Authority = r.Header["Host"][0]
	}
	splitTarget(r)
	p.afterCONNECT = r.Method == "CONNECT" // a refused CONNECT may be followed by requests
	if p.seen&seenCE != 0 {
		p.contentCodings(r.Header)
	}
	if p.seen&seenTE != 0 {
		p.checkTE()
		if !p.transferCodings(r.Header["Transfer-Encoding"]) {
			// RFC 9112 section 6.3 rule 4: the length of such a request
			// cannot be determined.
			p.badFraming(AnomalyTransferEncodingNotChunked, ErrTransferEncoding, ts)
			return
		}
		if r.Proto == "HTTP/1.0" {
			p.badFraming(AnomalyTransferEncodingHTTP10, ErrTransferEncoding, ts)
			return
		}
		p.flags |= message.FlagChunked
		p.st = stChunkSize
		return
	}
	if p.seen&seenCL != 0 {
		n, bad := parseContentLength(r.Header["Content-Length"])
		if bad != "" {
			p.badFraming(bad, ErrContentLength, ts)
			return
		}
		p.setLength(n, ts)
		return
	}
	p.finish(ts) // a request without a length has no body
}

func (p *Parser) frameResponse(r *message.Response, ts time.Time) {
	if r.StatusCode < 200 {
		// Interim responses have no body; 101 hands the connection over.
		p.tunnel = r.StatusCode == 101
		p.finish(ts)
		return
	}
	method := p.h.PendingMethod()
	if method == "CONNECT" && r.StatusCode < 300 {
		p.tunnel = true
		p.finish(ts)
		return
	}
	if method == "HEAD" || r.StatusCode == 204 || r.StatusCode == 304 {
		p.finish(ts)
		return
	}
	if p.seen&seenCE != 0 {
		p.contentCodings(r.Header)
	}
	if p.seen&seenTE != 0 {
		p.checkTE()
		chunked := p.transferCodings(r.Header["Transfer-Encoding"])
		if r.Proto == "HTTP/1.0" {
			p.badFraming(AnomalyTransferEncodingHTTP10, ErrTransferEncoding, ts)
			return
		}
		if chunked {
			p.flags |= message.FlagChunked
			p.st = stChunkSize
		} else {
			p.st = stBodyClose // not chunked last: the body runs to the close
		}
		return
	}
	if p.seen&seenCL != 0 {
		n, bad := parseContentLength(r.Header["Content-Length"])
		if bad != "" {
			p.badFraming(bad, ErrContentLength, ts)
			return
		}
		p.setLength(n, ts)
		return
	}
	p.st = stBodyClose
}

// checkTE notes a Content-Length sent along with Transfer-Encoding: the
// shape of request smuggling, where two parsers disagree on which frames
// the message. Transfer-Encoding wins here (RFC 9112 section 6.3 rule 3),
// as it must on any conforming recipient.
func (p *Parser) checkTE() {
	if p.seen&seenCL != 0 {
		p.stats.SmugglingShape++
		p.anomaly(AnomalyContentLengthWithTransferEncoding)
	}
}

// anomaly records what is wrong with the message being parsed.
func (p *Parser) anomaly(a string) {
	if !slices.Contains(p.anomalies, a) {
		p.anomalies = append(p.anomalies, a)
	}
}

// badFraming delivers a message whose body length cannot be determined,
// head only and flagged, and gives up the framing of the direction: the
// body's bytes, whatever they are, are searched for the next start line
// like after any parse error, and the handler, told by message.FlagBadFraming,
// must not take what is found for the next message in order.
func (p *Parser) badFraming(anomaly string, err error, ts time.Time) {
	p.stats.ParseErrors++
	p.stats.BadFraming++
	p.lastErr = errAt(p.off, err)
	p.anomaly(anomaly)
	p.flags |= message.FlagBadFraming
	clear(p.codings) // there is no body to decode
	p.codings = p.codings[:0]
	p.finish(ts)
	if p.st != stDone {
		p.enterSync()
	}
}

func (p *Parser) setLength(n int64, ts time.Time) {
	if n == 0 {
		p.finish(ts)
		return
	}
	p.remain = n
	p.bodyHint = int(min(n, int64(p.cfg.MaxBody)))
	p.st = stBody
}

// contentCodings appends the Content-Encoding codings, in the order they
// were applied, to p.codings, at most message.MaxCodings of them (see addCoding).
func (p *Parser) contentCodings(h http.Header) {
	for _, v := range h["Content-Encoding"] {
		forEachElem(v, func(c string) bool {
			if c = strings.ToLower(c); c != "identity" {
				return p.addCoding(c)
			}
			return true
		})
	}
}

// addCoding appends one coding to undo; past message.MaxCodings the message is
// flagged message.FlagCodingsCapped and no more are kept (the body will not be
// decoded at all). It reports whether there is room for more.
func (p *Parser) addCoding(c string) bool {
	if len(p.codings) < message.MaxCodings {
		p.codings = append(p.codings, c)
		return true
	}
	if !p.flags.Has(message.FlagCodingsCapped) {
		p.flags |= message.FlagCodingsCapped
		p.stats.CodingsCapped++
		p.anomaly(AnomalyTooManyCodings)
	}
	return false
}

// transferCodings appends the transfer codings other than chunked to
// p.codings and reports whether chunked is the final coding (and appears
// nowhere else).
func (p *Parser) transferCodings(te []string) bool {
	chunked, ok := false, true
	for _, v := range te {
		forEachElem(v, func(c string) bool {
			if chunked { // chunked must be the last coding
				ok = false
				return false
			}
			switch c = strings.ToLower(c); c {
			case "chunked":
				chunked = true
			case "identity":
			default:
				p.addCoding(c) // the list is read on, for chunked
			}
			return true
		})
	}
	return ok && chunked
}

// forEachElem calls f with each non-empty, trimmed element of a
// comma-separated list until f returns false.
func forEachElem(v string, f func(string) bool) {
	for v != "" {
		var e string
		if i := strings.IndexByte(v, ','); i >= 0 {
			e, v = v[:i], v[i+1:]
		} else {
			e, v = v, ""
		}
		if e = message.TrimOWS(e); e != "" && !f(e) {
			return
		}
	}
}

// parseContentLength accepts one or more fields, each a list of identical
// decimal values (RFC 9110 section 8.6). bad names what is wrong otherwise.
func parseContentLength(vals []string) (n int64, bad string) {
	n = -1
	for _, v := range vals {
		empty := true
		forEachElem(v, func(e string) bool {
			empty = false
			x, good := parseDecimal(e)
			switch {
			case !good:
				bad = AnomalyInvalidContentLength
			case n >= 0 && x != n:
				bad = AnomalyConflictingContentLength
			default:
				n = x
				return true
			}
			return false
		})
		if bad != "" {
			return 0, bad
		}
		if empty {
			return 0, AnomalyInvalidContentLength
		}
	}
	if n < 0 {
		return 0, AnomalyInvalidContentLength
	}
	return n, ""
}

// parseDecimal parses at most 18 digits: no body is an exabyte long, and
// 18 digits cannot overflow an int64.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseChunkSize parses a chunk-size line: hex digits, optional BWS and
// chunk extensions (ignored).
func parseChunkSize(ln []byte) (int64, bool) {
	ln = trimCR(ln)
	var n int64
	i := 0
	for ; i < len(ln); i++ {
		d := unhex(ln[i])
		if d < 0 {
			break
		}
		if i >= 15 { // would overflow int64
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	if i == 0 {
		return 0, false
	}
	rest := ln[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] != ';' {
		return 0, false
	}
	return n, true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseFields parses header (or trailer) field lines from s into hdr, up to
// the first empty line. strs, if long enough, backs the value slices so
// that single-valued fields cost no allocation of their own. checked: s
// already passed validBlock, so values need no byte check of their own.
// It notes in p.seen which framing fields are present, so that framing
// costs no map lookups for absent ones.
func (p *Parser) parseFields(s string, hdr http.Header, strs []string, checked bool) error {
	var lastKey string
	n := 0
	// keys lists the fields added so far while they fit (known): a name
	// not among them is new, and costs no map lookup.
	var keys [blockFields]string
	nk, known := 0, len(hdr) == 0
	for s != "" {
		var ln string
		if ln, s = nextLine(s); ln == "" {
			return nil
		}
		if ln[0] == ' ' || ln[0] == '\t' {
			// obs-fold: a continuation of the previous field's value.
			if lastKey == "" {
				return ErrHeaderLine
			}
			v := message.TrimOWS(ln)
			if !checked && !validValue(v) {
				return ErrHeaderLine
			}
			vs := hdr[lastKey]
			if last := vs[len(vs)-1]; last == "" {
				vs[len(vs)-1] = v
			} else if v != "" {
				vs[len(vs)-1] = last + " " + v
			}
			continue
		}
		colon := strings.IndexByte(ln, ':')
		if colon <= 0 {
			return ErrHeaderLine
		}
		valid, canonical := message.ScanName(ln[:colon])
		if !valid {
			return ErrHeaderLine
		}
		v := message.TrimOWS(ln[colon+1:])
		if !checked && !validValue(v) {
			return ErrHeaderLine
		}
		if n++; n > maxHeaderFields {
			return ErrTooManyHeaders
		}
		key := ln[:colon] // most senders write Content-Type, not content-type
		if !canonical {
			key = p.canonicalKey(key)
		}
		switch key {
		case "Content-Length":
			p.seen |= seenCL
		case "Transfer-Encoding":
			p.seen |= seenTE
		case "Content-Encoding":
			p.seen |= seenCE
		case "Host":
			p.seen |= seenHost
		}
		var vs []string
		switch {
		case !known || slices.Contains(keys[:nk], key):
			vs = hdr[key]
		case nk < len(keys):
			keys[nk] = key
			nk++
		default:
			known = false // key is new, but the next ones are not listed
		}
		if vs == nil && len(strs) > 0 {
			vs, strs = strs[:1:1], strs[1:]
			vs[0] = v
			hdr[key] = vs
		} else {
			hdr[key] = append(vs, v)
		}
		lastKey = key
	}
	return nil
}

// canonicalKey returns the canonical form of a header name, through a small
// per-parser cache so that the common names cost no allocation.
func (p *Parser) canonicalKey(name string) string {
	if message.IsCanonical(name) {
		return name // most senders already write Content-Type, not content-type
	}
	if k, ok := p.keyMap[name]; ok {
		return k
	}
	k := textproto.CanonicalMIMEHeaderKey(name)
	if p.keyMap == nil {
		p.keyMap = make(map[string]string, 32)
	}
	if len(p.keyMap) < maxKeyCache {
		// Clones: the cache must not pin a whole message head.
		k = strings.Clone(k)
		p.keyMap[strings.Clone(name)] = k
	}
	return k
}

// splitTarget fills Path, RawQuery and (for absolute-form and
// authority-form targets) Authority, and Scheme for absolute-form ones.
func splitTarget(r *message.Request) {
	t := r.Target
	switch {
	case t == "*":
		r.Path = t
		return
	case r.Method == "CONNECT" && t != "" && t[0] != '/':
		if r.Authority == "" {
			r.Authority = t
		}
		return
	case len(t) > 0 && t[0] != '/':
		if i := schemeEnd(t); i > 0 {
			r.Scheme = schemes[i-len("://")-len("http")]
			rest := t[i:]
			j := strings.IndexAny(rest, "/?#")
			if j < 0 {
				j = len(rest)
			}
			auth := rest[:j]
			if at := strings.LastIndexByte(auth, '@'); at >= 0 {
				auth = auth[at+1:]
			}
			if r.Authority == "" {
				r.Authority = auth
			}
			t = rest[j:]
			if t == "" || t[0] != '/' {
				r.Path = "/"
				if t != "" && t[0] == '?' {
					r.RawQuery = t[1:]
				}
				return
			}
		}
	}
	if i := strings.IndexByte(t, '?'); i >= 0 {
		r.Path, r.RawQuery = t[:i], t[i+1:]
	} else {
		r.Path = t
	}
}

// schemes are the Schemes of absolute-form targets, by length past "http".
var schemes = [...]string{"http", "https"}

// schemeEnd returns the length of an "http://" or "https://" prefix of t
// (any case), or 0.
func schemeEnd(t string) int {
	for _, s := range [...]string{"http://", "https://"} {
		if len(t) >= len(s) && strings.EqualFold(t[:len(s)], s) {
			return len(s)
		}
	}
	return 0
}

// parseRequestLine checks "method SP target SP HTTP/1.d" and returns the
// index of the two spaces.
func parseRequestLine[T string | []byte](ln T) (m, t int, ok bool) {
	i := 0
	for i < len(ln) && ln[i] != ' ' {
		if !message.IsTokenChar(ln[i]) || i >= maxMethod {
			return 0, 0, false
		}
		i++
	}
	if i == 0 || len(ln) < i+11 {
		return 0, 0, false
	}
	// The version is the last word; the target is everything between. A
	// target with spaces in it is invalid, but clients send them (an
	// unencoded path) and servers answer them: keep such requests.
	j := len(ln) - 9
	v := ln[j+1:]
	if ln[j] != ' ' || string(v[:7]) != "HTTP/1." || v[7] < '0' || v[7] > '9' {
		return 0, 0, false
	}
	if ln[i+1] == ' ' || ln[j-1] == ' ' {
		return 0, 0, false
	}
	spaces := false
	for k := i + 1; k < j; k++ {
		if c := ln[k]; c < 0x20 || c == 0x7f {
			return 0, 0, false
		} else if c == ' ' {
			spaces = true
		}
	}
	if spaces && ln[i+1] != '/' {
		return 0, 0, false // only an origin-form path may carry spaces
	}
	return i, j, true
}

// parseStatusLine checks "HTTP/1.d SP 3DIGIT [SP reason]"; like net/http
// it tolerates more than one space before the code.
func parseStatusLine[T string | []byte](ln T) (code int, ok bool) {
	if len(ln) < 12 || string(ln[:7]) != "HTTP/1." || ln[7] < '0' || ln[7] > '9' || ln[8] != ' ' {
		return 0, false
	}
	i := 9
	for i < len(ln) && ln[i] == ' ' {
		i++
	}
	if len(ln)-i < 3 {
		return 0, false
	}
	for _, c := range []byte{ln[i], ln[i+1], ln[i+2]} {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, false
	}
	// The reason phrase is free text that nobody acts on; like net/http,
	// take any bytes there.
	if i += 3; i < len(ln) && ln[i] != ' ' {
		return 0, false
	}
	return code, true
}

// reasonPhrase returns the reason phrase of a valid status line.
func reasonPhrase(ln string) string {
	ln = strings.TrimLeft(ln[9:], " ")
	if len(ln) > 4 {
		return ln[4:]
	}
	return ""
}

// nextLine splits the first line (without its CR LF or LF) off s.
func nextLine(s string) (line, rest string) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return trimCR(s[:i]), s[i+1:]
	}
	return trimCR(s), ""
}

func trimCR[T string | []byte](s T) T {
	if n := len(s); n > 0 && s[n-1] == '\r' {
		return s[:n-1]
	}
	return s
}

// validValue reports whether v holds only field-vchar, SP and HTAB (obs-text
// included), as net/textproto checks.
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Bits of Parser.seen: framing fields present in the header section.
const (
	seenCL = 1 << iota
	seenTE
	seenCE
	seenHost
)

// startLine is the start line that sync validated, kept so that parseHead
// need not parse it again.
type startLine struct {
	kind role // roleUnknown: not kept
	m, t int  // request: the two spaces
	code int  // response: status code
}

// validBlock reports whether a header block holds no control bytes other
// than HTAB, LF and CR right before LF (field values may hold HTAB, SP,
// VCHAR and obs-text; names and start lines are checked more strictly on
// their own). It looks at 8 bytes at a time and at single bytes only in
// words holding a byte below 0x20 or a DEL.
func validBlock(b []byte) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		x := w ^ (0x7f * ones)
		if ((w-0x20*ones)&^w|(x-ones)&^x)&high == 0 {
			continue
		}
		if !validBytes(b, i, i+8) {
			return false
		}
	}
	return validBytes(b, i, len(b))
}

func validBytes(b []byte, i, j int) bool {
	for ; i < j; i++ {
		c := b[i]
		switch {
		case c >= 0x20 && c != 0x7f, c == '\t', c == '\n':
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
		default:
			return false
		}
	}
	return true
}

// blockFields is how many header values fit in the array allocated with a
// message; typical API traffic has fewer fields. Heads of at most
// smallFields lines (what many API clients and servers send: Host,
// User-Agent, Accept; Content-Type, Date, Content-Length) get a smaller
// block, so that they cost less memory and garbage collection.
const (
	blockFields = 12
	smallFields = 4
)

// block and smallBlock allocate a message (a Request or a Response)
// together with the backing array of its single-valued header fields.
type block[M any] struct {
	m    M
	strs [blockFields]string
}

type smallBlock[M any] struct {
	m    M
	strs [smallFields]string
}

// newMessage allocates a message with the backing for n header values.
func newMessage[M message.Request | message.Response](n int) (*M, []string) {
	if n <= smallFields {
		b := &smallBlock[M]{}
		return &b.m, b.strs[:n]
	}
	b := &block[M]{}
	return &b.m, blockStrs(b.strs[:], n)
}

// blockStrs returns the backing for n header values: the block's array
// when they fit, a new slice when not.
func blockStrs(arr []string, n int) []string {
	if n <= len(arr) {
		return arr[:n]
	}
	return make([]string, n)
}
