package har

import (
	"bufio"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// MaxBody caps the body bytes kept per message read, as the capture path
// does (http1.DefaultConfig().MaxBody); longer bodies are cut and flagged
// message.FlagBodyTruncated.
const MaxBody = 256 << 10

// document is a HAR document as Read decodes it: the entries Write
// writes, and those of browsers and proxies.
type document struct {
	Log struct {
		Entries []harEntry `json:"entries"`
	} `json:"log"`
}

// ReadFile reads the HAR file at path, gzip-compressed or not (told by
// the gzip magic bytes, not the file name).
func ReadFile(path string) ([]*reassembly.Exchange, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("har: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("har: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	xs, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("har: %s: %w", path, err)
	}
	return xs, nil
}

// Read decodes a HAR document into exchanges, numbered (ConnID) in entry
// order. Entries whose URL does not parse are skipped; a document that is
// not HAR JSON is an error. What Write wrote reads back as the exchanges
// it was given, as far as HAR holds them (see Write).
func Read(r io.Reader) ([]*reassembly.Exchange, error) {
	var d document
	if err := json.NewDecoder(r).Decode(&d); err != nil {
		return nil, fmt.Errorf("decoding HAR: %w", err)
	}
	out := make([]*reassembly.Exchange, 0, len(d.Log.Entries))
	for i := range d.Log.Entries {
		x, err := convert(&d.Log.Entries[i], uint64(i))
		if err != nil {
			continue
		}
		out = append(out, x)
	}
	return out, nil
}

// fields returns the header map of nvs and, when every field can be
// written as a field line, the raw header section holding them in order
// with their names as sent (what message.Fields reads).
func fields(nvs []nameValue) (http.Header, string) {
	h := make(http.Header, len(nvs))
	var raw strings.Builder
	ok := true
	for _, p := range nvs {
		h.Add(p.Name, p.Value)
		if valid, _ := message.ScanName(p.Name); !valid || strings.ContainsAny(p.Value, "\r\n") || p.Value != message.TrimOWS(p.Value) {
			ok = false
		}
		if ok {
			raw.WriteString(p.Name)
			raw.WriteString(": ")
			raw.WriteString(p.Value)
			raw.WriteString("\r\n")
		}
	}
	if !ok || raw.Len() == 0 {
		return h, ""
	}
	raw.WriteString("\r\n")
	return h, raw.String()
}

func body(text, encoding string) ([]byte, message.Flags) {
	b := []byte(text)
	if encoding == "base64" {
		if d, err := base64.StdEncoding.DecodeString(text); err == nil {
			b = d
		}
	}
	if len(b) > MaxBody {
		return b[:MaxBody], message.FlagBodyTruncated
	}
	return b, 0
}

// duration converts HAR milliseconds, rounded to the nanosecond.
func duration(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

func convert(e *harEntry, id uint64) (*reassembly.Exchange, error) {
	u, err := url.Parse(e.Request.URL)
	if err != nil {
		return nil, fmt.Errorf("entry %d: url: %w", id, err)
	}
	start, _ := time.Parse(time.RFC3339Nano, e.StartedDateTime)
	total := duration(e.Time)
	end := start.Add(total)
	// The request's end and the response's start, when the timings say
	// them and agree with the total; the whole exchange otherwise.
	reqEnd, respStart := start, end
	if t := e.Timings; t.Send >= 0 && t.Wait >= 0 && t.Receive >= 0 && duration(t.Send)+duration(t.Wait) <= total && t.Send+t.Wait > 0 {
		reqEnd = start.Add(duration(t.Send))
		respStart = reqEnd.Add(duration(t.Wait))
	}
	reqH, reqRaw := fields(e.Request.Headers)
	host := reqH.Get("Host")
	if host == "" {
		host = u.Host
	}
	path := u.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // relative or opaque URLs: keep what there is
	}
	target := path
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	req := &message.Request{
		Method: e.Request.Method, Target: target, Path: path, RawQuery: u.RawQuery,
		Proto: e.Request.HTTPVersion, Authority: host, Header: reqH, RawHeader: reqRaw, Start: start, End: reqEnd,
	}
	req.Scheme = u.Scheme
	if req.Scheme == "" {
		// HAR URLs are absolute; one that is not is read as Write
		// writes a request of unknown scheme.
		req.Scheme = "http"
	}
	if pd := e.Request.PostData; pd != nil {
		b, f := body(pd.Text, pd.Encoding)
		req.Body, req.Flags, req.WireSize = message.NewBody(b, 0), f, int64(len(b))
		if req.Header.Get("Content-Type") == "" && pd.MimeType != "" {
			req.Header.Set("Content-Type", pd.MimeType)
		}
	}
	x := &reassembly.Exchange{ConnID: id, Request: req, Proto: req.Proto, Anomalies: e.Anomalies}
	x.Flow.Server = serverAddr(e.ServerIPAddress, u)
	if e.Response.Status > 0 {
		h, raw := fields(e.Response.Headers)
		resp := &message.Response{
			Proto: e.Response.HTTPVersion, StatusCode: e.Response.Status, Reason: e.Response.StatusText,
			Header: h, RawHeader: raw, Start: respStart, End: end,
		}
		b, f := body(e.Response.Content.Text, e.Response.Content.Encoding)
		resp.Body, resp.Flags, resp.WireSize = message.NewBody(b, 0), f, int64(len(b))
		x.Response = resp
	} else {
		x.Flags |= reassembly.FlagUnmatchedRequest
	}
	return x, nil
}

func serverAddr(ip string, u *url.URL) netip.AddrPort {
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if a, err = netip.ParseAddr(u.Hostname()); err != nil {
			if h, _, err2 := net.SplitHostPort(ip); err2 == nil {
				a, _ = netip.ParseAddr(h)
			}
		}
	}
	if !a.IsValid() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, uint16(port))
}
