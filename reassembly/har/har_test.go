package har

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

func TestWriter(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	flow := reassembly.Flow{Client: netip.MustParseAddrPort("10.0.0.1:5000"), Server: netip.MustParseAddrPort("10.0.0.2:80")}
	xs := []*reassembly.Exchange{
		{Flow: flow, Request: &message.Request{Method: "GET", Path: "/a", RawQuery: "q=a%20b&x", Proto: "HTTP/1.1", Authority: "api.test",
			Header: http.Header{"Cookie": {"sid=1"}}, Start: t0, End: t0},
			Response: &message.Response{StatusCode: 200, Reason: "OK", Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {"image/png"}},
				Body: message.NewBody([]byte{0x89, 'P', 'N', 'G', 0xff}, 0), WireSize: 5, Start: t0.Add(time.Millisecond), End: t0.Add(2 * time.Millisecond)}},
		{Flow: flow, Request: &message.Request{Method: "POST", Path: "/b", Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {"application/json"}},
			Body: message.NewBody([]byte(`{"k":1}`), 0), WireSize: 7, Start: t0, End: t0}, Flags: reassembly.FlagUnmatchedRequest,
			Anomalies: []string{reassembly.AnomalyUnpairedAfterBadFraming}},
		{Flow: flow, Response: &message.Response{StatusCode: 500}, Flags: reassembly.FlagUnmatchedResponse},
	}
	buf, w := writeAll(t, xs)
	if w.Skipped() != 1 {
		t.Errorf("skipped %d, want the response without request", w.Skipped())
	}
	var doc struct {
		Log struct {
			Version string `json:"version"`
			Entries []struct {
				Time    float64 `json:"time"`
				Request struct {
					URL         string      `json:"url"`
					QueryString []nameValue `json:"queryString"`
					Cookies     []nameValue `json:"cookies"`
					PostData    *postData   `json:"postData"`
				} `json:"request"`
				Response struct {
					Status  int     `json:"status"`
					Content content `json:"content"`
				} `json:"response"`
				Flags     []string `json:"_specterFlags"`
				Anomalies []string `json:"_specterAnomalies"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	e := doc.Log.Entries
	if doc.Log.Version != "1.2" || len(e) != 2 {
		t.Fatalf("version %q, %d entries", doc.Log.Version, len(e))
	}
	if e[0].Request.URL != "http://api.test/a?q=a%20b&x" || len(e[0].Request.QueryString) != 2 || e[0].Request.QueryString[0].Value != "a b" {
		t.Errorf("request: %+v", e[0].Request)
	}
	if len(e[0].Request.Cookies) != 1 || e[0].Request.Cookies[0].Name != "sid" {
		t.Errorf("cookies: %+v", e[0].Request.Cookies)
	}
	if c := e[0].Response.Content; c.Encoding != "base64" || c.Text != "iVBOR/8=" || e[0].Time != 2 {
		t.Errorf("binary body: %+v, time %v", c, e[0].Time)
	}
	if e[1].Response.Status != 0 || e[1].Request.PostData == nil || e[1].Request.PostData.Text != `{"k":1}` || len(e[1].Flags) != 1 {
		t.Errorf("unmatched request: %+v", e[1])
	}
	if len(e[0].Anomalies) != 0 || len(e[1].Anomalies) != 1 || e[1].Anomalies[0] != reassembly.AnomalyUnpairedAfterBadFraming {
		t.Errorf("anomalies: %v, %v", e[0].Anomalies, e[1].Anomalies)
	}
	if e[1].Request.URL != "http://10.0.0.2:80/b" {
		t.Errorf("URL without Host: %s", e[1].Request.URL)
	}
}

// Headers keep their names as sent and their wire order; trailer fields
// (in Header only) follow; markers are not HTML-escaped.
func TestHeaderFields(t *testing.T) {
	x := &reassembly.Exchange{
		Request: &message.Request{Method: "GET", Path: "/", Proto: "HTTP/1.1",
			RawHeader: "api_key: <redacted>\r\nhost: h\r\nX-B: 1\r\nx-a: 2\r\n\r\n",
			Header:    http.Header{"Api_key": {"<redacted>"}, "Host": {"h"}, "X-B": {"1"}, "X-A": {"2"}}},
		Response: &message.Response{StatusCode: 200, Proto: "HTTP/1.1", RawHeader: "transfer-encoding: chunked\r\n\r\n",
			Header: http.Header{"Transfer-Encoding": {"chunked"}, "X-Sum": {"9"}}},
	}
	buf, _ := writeAll(t, []*reassembly.Exchange{x})
	var doc struct {
		Log struct {
			Entries []struct {
				Request  struct{ Headers []nameValue } `json:"request"`
				Response struct{ Headers []nameValue } `json:"response"`
			} `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Log.Entries) != 1 {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	e := doc.Log.Entries[0]
	wantReq := []nameValue{{"api_key", "<redacted>"}, {"host", "h"}, {"X-B", "1"}, {"x-a", "2"}}
	wantResp := []nameValue{{"transfer-encoding", "chunked"}, {"X-Sum", "9"}}
	if !slices.Equal(e.Request.Headers, wantReq) || !slices.Equal(e.Response.Headers, wantResp) {
		t.Errorf("headers %v / %v, want %v / %v", e.Request.Headers, e.Response.Headers, wantReq, wantResp)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"<redacted>"`)) {
		t.Errorf("markers escaped: %s", buf.Bytes())
	}
}
