package store

import (
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/message"
)

// Values the secrets test sends in traffic and greps the database for.
const (
	secretToken      = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.Zm9vYmFyYmF6cXV4"
	secretEmail      = "alice.secret@example.org"
	secretCard       = "4111 1111 1111 1111"
	secretCardDigits = "4111111111111111"
	secretAPIKey     = "sk_live_51HqLyjWDarjtT1zdp7dc"
)

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

func syscallUmask(m int) int { return syscall.Umask(m) }

// exchange builds one exchange; hdr is "Name: value" lines.
func exchange(start time.Time, method, host, target, hdr, reqBody string, status int, respBody string) *reassembly.Exchange {
	path, rawq, _ := strings.Cut(target, "?")
	h := http.Header{}
	for _, l := range strings.Split(hdr, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	if reqBody != "" {
		h.Set("Content-Type", "application/json")
	}
	x := &reassembly.Exchange{
		Flow: reassembly.Flow{
			Client: netip.MustParseAddrPort("10.0.0.1:40000"),
			Server: netip.MustParseAddrPort("10.0.0.2:8080"),
		},
		Request: &message.Request{
			Method: method, Target: target, Path: path, RawQuery: rawq, Proto: "HTTP/1.1",
			Authority: host, Header: h, Body: message.NewBody([]byte(reqBody), 0), WireSize: int64(len(reqBody)),
			Start: start, End: start,
		},
	}
	rh := http.Header{}
	if respBody != "" {
		rh.Set("Content-Type", "application/json")
	}
	x.Response = &message.Response{
		Proto: "HTTP/1.1", StatusCode: status, Header: rh, Body: message.NewBody([]byte(respBody), 0),
		WireSize: int64(len(respBody)), Start: start.Add(3 * time.Millisecond),
		End: start.Add(time.Duration(5+start.Nanosecond()%7) * time.Millisecond),
	}
	return x
}

// synthExchanges is n requests of a small API on one host.
func synthExchanges(n int) []*reassembly.Exchange {
	return synthExchangesAt(n, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "api.example.test")
}

func synthExchangesAt(n int, t0 time.Time, host string) []*reassembly.Exchange {
	var xs []*reassembly.Exchange
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		id := 1000 + i*7%513
		switch i % 4 {
		case 0:
			xs = append(xs, exchange(at, "GET", host, fmt.Sprintf("/v1/users/%d", id), "Authorization: Bearer abc.def.ghi", "", 200,
				fmt.Sprintf(`{"id":%d,"name":"user %d","active":true}`, id, id)))
		case 1:
			xs = append(xs, exchange(at, "GET", host, fmt.Sprintf("/v1/users/%d/orders?limit=%d", id, i%50), "", "", 200,
				fmt.Sprintf(`[{"order":%d,"total":%d.5}]`, i, i)))
		case 2:
			xs = append(xs, exchange(at, "POST", host, "/v1/orders", "", fmt.Sprintf(`{"item":"sku-%d","qty":%d}`, i%9, i%5+1), 201,
				fmt.Sprintf(`{"order":%d}`, i)))
		default:
			xs = append(xs, exchange(at, "GET", host, "/v1/health", "", "", 204, ""))
		}
	}
	return xs
}

// secretExchanges carry a bearer token, an API key, an email and a card
// number in headers, query strings and bodies.
func secretExchanges(n int) []*reassembly.Exchange {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var xs []*reassembly.Exchange
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		switch i % 3 {
		case 0:
			xs = append(xs, exchange(at, "GET", "pay.example.test", fmt.Sprintf("/accounts/%d", 100+i), "Authorization: Bearer "+secretToken, "", 200,
				fmt.Sprintf(`{"id":%d,"email":%q,"card":%q}`, 100+i, secretEmail, secretCard)))
		case 1:
			xs = append(xs, exchange(at, "POST", "pay.example.test", "/payments?api_key="+secretAPIKey, "X-Api-Key: "+secretAPIKey,
				fmt.Sprintf(`{"card_number":%q,"email":%q,"amount":%d}`, secretCardDigits, secretEmail, i), 201, `{"ok":true}`))
		default:
			xs = append(xs, exchange(at, "GET", "pay.example.test", "/lookup?email="+secretEmail, "Cookie: session="+secretToken, "", 200,
				fmt.Sprintf(`{"holder":%q}`, secretEmail)))
		}
	}
	return xs
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }
