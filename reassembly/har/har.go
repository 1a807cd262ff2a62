// Package har writes exchanges as an HTTP Archive (HAR 1.2) and reads HAR
// files (Specter's and those of browsers and proxies) back into exchanges,
// with one set of types for both. Writing streams, one entry at a time, so
// a capture of any size becomes a HAR file in bounded memory; reading
// holds the document.
package har

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// Writer streams a HAR document. Call Write for each exchange and Close at
// the end; the document is only well-formed after Close.
type Writer struct {
	w       *bufio.Writer
	n       int
	skipped int
	err     error
	buf     bytes.Buffer // one entry's JSON
}

// NewWriter starts a HAR document on w. creator and version name the tool
// in the document's creator field.
func NewWriter(w io.Writer, creator, version string) (*Writer, error) {
	hw := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	c, _ := json.Marshal(map[string]string{"name": creator, "version": version})
	_, err := fmt.Fprintf(hw.w, "{\"log\":{\"version\":\"1.2\",\"creator\":%s,\"entries\":[\n", c)
	hw.err = err
	return hw, err
}

// Skipped returns how many exchanges had no request and so could not be
// written: HAR has no way to express a response without its request.
func (hw *Writer) Skipped() int { return hw.skipped }

// Write appends one exchange. A request that never got its response is
// written with status 0, as browsers record aborted requests. Read gives
// back what HAR holds of it: method, URL (so path, query and authority),
// protocol, header fields as sent, bodies, times to the nanosecond and
// anomalies; not the flow's ports (only the server's address), the
// connection, the exchange's flags other than an unmatched request, nor
// the messages' flags.
func (hw *Writer) Write(x *reassembly.Exchange) error {
	if hw.err != nil {
		return hw.err
	}
	if x.Request == nil {
		hw.skipped++
		return nil
	}
	hw.buf.Reset()
	enc := json.NewEncoder(&hw.buf)
	enc.SetEscapeHTML(false) // redaction markers ("<redacted>") stay readable
	if err := enc.Encode(entry(x)); err != nil {
		hw.err = fmt.Errorf("har: encoding entry: %w", err)
		return hw.err
	}
	if hw.n > 0 {
		hw.w.WriteString(",\n")
	}
	hw.n++
	_, hw.err = hw.w.Write(bytes.TrimSuffix(hw.buf.Bytes(), []byte("\n")))
	return hw.err
}

// Close ends the document and flushes it.
func (hw *Writer) Close() error {
	if hw.err != nil {
		return hw.err
	}
	hw.w.WriteString("\n]}}\n")
	return hw.w.Flush()
}

type nameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type content struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

type postData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	// Encoding is "base64" for a binary body: HAR 1.2 has it only for
	// response content, but without it such a body cannot be read back.
	Encoding string      `json:"encoding,omitempty"`
	Params   []nameValue `json:"params,omitempty"`
}

type request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []nameValue `json:"cookies"`
	Headers     []nameValue `json:"headers"`
	QueryString []nameValue `json:"queryString"`
	PostData    *postData   `json:"postData,omitempty"`
	HeadersSize int         `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
}

type response struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []nameValue `json:"cookies"`
	Headers     []nameValue `json:"headers"`
	Content     content     `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int         `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
}

type timings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

type harEntry struct {
	StartedDateTime string   `json:"startedDateTime"`
	Time            float64  `json:"time"`
	Request         request  `json:"request"`
	Response        response `json:"response"`
	Cache           struct{} `json:"cache"`
	Timings         timings  `json:"timings"`
	ServerIPAddress string   `json:"serverIPAddress,omitempty"`
	Connection      string   `json:"connection,omitempty"`
	Flags           []string `json:"_specterFlags,omitempty"`
	Anomalies       []string `json:"_specterAnomalies,omitempty"` // Exchange.Anomalies
}

// headers lists the fields as sent: names as written, in wire order.
func headers(raw string, h http.Header) []nameValue {
	out := []nameValue{}
	for _, f := range message.Fields(raw, h) {
		out = append(out, nameValue(f))
	}
	return out
}

func ms(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond)
}

func entry(x *reassembly.Exchange) harEntry {
	r := x.Request
	host := r.Authority
	if host == "" || strings.ContainsAny(host, "/?#@\\ \t\r\n") {
		// An authority that would change the URL's path (a hostile Host
		// header) is left to the headers, which keep it.
		host = ""
		if x.Flow.Server.IsValid() {
			host = x.Flow.Server.String()
		}
	}
	scheme := r.Scheme
	if scheme == "" {
		scheme = "http"
	}
	u := scheme + "://" + host + r.Path
	if r.RawQuery != "" {
		u += "?" + r.RawQuery
	}
	e := harEntry{
		StartedDateTime: r.Start.UTC().Format(time.RFC3339Nano),
		ServerIPAddress: x.Flow.Server.Addr().String(),
		Connection:      fmt.Sprint(x.ConnID),
		Flags:           x.AllFlags().Names(),
		Anomalies:       x.Anomalies,
	}
	e.Request = request{
		Method:      r.Method,
		URL:         u,
		HTTPVersion: r.Proto,
		Cookies:     cookies((&http.Request{Header: r.Header}).Cookies()),
		Headers:     headers(r.RawHeader, r.Header),
		QueryString: query(r.RawQuery),
		HeadersSize: -1,
		BodySize:    r.WireSize,
	}
	if len(r.Body.Bytes()) > 0 || r.WireSize > 0 {
		e.Request.PostData = &postData{MimeType: r.Header.Get("Content-Type")}
		e.Request.PostData.Text, e.Request.PostData.Encoding = text(r.Body.Bytes())
	}
	e.Response = response{Cookies: []nameValue{}, Headers: []nameValue{}, HeadersSize: -1, BodySize: -1}
	if s := x.Response; s != nil {
		e.Response = response{
			Status:      s.StatusCode,
			StatusText:  s.Reason,
			HTTPVersion: s.Proto,
			Cookies:     cookies((&http.Response{Header: s.Header}).Cookies()),
			Headers:     headers(s.RawHeader, s.Header),
			RedirectURL: s.Header.Get("Location"),
			HeadersSize: -1,
			BodySize:    s.WireSize,
			Content:     content{Size: int64(len(s.Body.Bytes())), MimeType: s.Header.Get("Content-Type")},
		}
		e.Response.Content.Text, e.Response.Content.Encoding = text(s.Body.Bytes())
		e.Timings = timings{Send: ms(r.End.Sub(r.Start)), Wait: ms(s.Start.Sub(r.End)), Receive: ms(s.End.Sub(s.Start))}
	} else {
		e.Timings = timings{Send: ms(r.End.Sub(r.Start))}
	}
	e.Time = e.Timings.Send + e.Timings.Wait + e.Timings.Receive
	return e
}

// text returns a body as HAR text and its encoding: binary bodies are
// base64.
func text(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

func cookies(cs []*http.Cookie) []nameValue {
	out := []nameValue{}
	for _, c := range cs {
		out = append(out, nameValue{c.Name, c.Value})
	}
	return out
}

func query(raw string) []nameValue {
	out := []nameValue{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, nameValue{k, v})
	}
	return out
}
