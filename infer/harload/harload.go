// Package harload reads HTTP Archive (HAR 1.2) files into the exchanges
// that package infer observes, so that inference can be fed and tested from
// browser or proxy recordings as well as from captures.
package harload

import (
	"bufio"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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

// MaxBody caps the body bytes kept per message, as the capture path does
// (http1.DefaultConfig().MaxBody); longer bodies are cut and flagged.
const MaxBody = 256 << 10

type har struct {
	Log struct {
		Entries []entry `json:"entries"`
	} `json:"log"`
}

type nv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type entry struct {
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"`
	ServerIPAddress string  `json:"serverIPAddress"`
	Request         struct {
		Method      string `json:"method"`
		URL         string `json:"url"`
		HTTPVersion string `json:"httpVersion"`
		Headers     []nv   `json:"headers"`
		PostData    *struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			Encoding string `json:"encoding"`
		} `json:"postData"`
	} `json:"request"`
	Response struct {
		Status      int    `json:"status"`
		StatusText  string `json:"statusText"`
		HTTPVersion string `json:"httpVersion"`
		Headers     []nv   `json:"headers"`
		Content     struct {
			MimeType string `json:"mimeType"`
			Text     string `json:"text"`
			Encoding string `json:"encoding"`
		} `json:"content"`
	} `json:"response"`
}

// ReadFile reads the HAR file at path, gzip-compressed or not (told by
// the gzip magic bytes, not the file name).
func ReadFile(path string) ([]*reassembly.Exchange, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("harload: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("harload: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	xs, err := Read(r)
	if err != nil {
		return nil, fmt.Errorf("harload: %s: %w", path, err)
	}
	return xs, nil
}

// Read decodes a HAR document. Entries whose URL does not parse are
// skipped; a document that is not HAR JSON is an error.
func Read(r io.Reader) ([]*reassembly.Exchange, error) {
	var h har
	if err := json.NewDecoder(r).Decode(&h); err != nil {
		return nil, fmt.Errorf("decoding HAR: %w", err)
	}
	out := make([]*reassembly.Exchange, 0, len(h.Log.Entries))
	for i := range h.Log.Entries {
		x, err := convert(&h.Log.Entries[i], uint64(i))
		if err != nil {
			continue
		}
		out = append(out, x)
	}
	return out, nil
}

func header(nvs []nv) http.Header {
	h := make(http.Header, len(nvs))
	for _, p := range nvs {
		h.Add(p.Name, p.Value)
	}
	return h
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

func convert(e *entry, id uint64) (*reassembly.Exchange, error) {
	u, err := url.Parse(e.Request.URL)
	if err != nil {
		return nil, fmt.Errorf("entry %d: url: %w", id, err)
	}
	start, _ := time.Parse(time.RFC3339Nano, e.StartedDateTime)
	end := start.Add(time.Duration(e.Time * float64(time.Millisecond)))
	reqH := header(e.Request.Headers)
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
		Proto: e.Request.HTTPVersion, Authority: host, Header: reqH, Start: start, End: start,
	}
	if pd := e.Request.PostData; pd != nil {
		b, f := body(pd.Text, pd.Encoding)
		req.Body, req.Flags, req.WireSize = message.NewBody(b, 0), f, int64(len(b))
		if req.Header.Get("Content-Type") == "" && pd.MimeType != "" {
			req.Header.Set("Content-Type", pd.MimeType)
		}
	}
	x := &reassembly.Exchange{ConnID: id, Request: req}
	x.Flow.Server = serverAddr(e.ServerIPAddress, u)
	if e.Response.Status > 0 {
		resp := &message.Response{
			Proto: e.Response.HTTPVersion, StatusCode: e.Response.Status, Reason: e.Response.StatusText,
			Header: header(e.Response.Headers), Start: end, End: end,
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
