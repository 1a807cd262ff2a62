package http2_test

import (
	"bytes"
	"fmt"
	"time"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/specter-dev/specter/reassembly/http2"
)

// A connection is fed direction by direction as segments arrive; each
// stream comes out as one Exchange. Here the two directions of a gRPC call
// are written with x/net's Framer and hpack, as a client and server would.
func Example() {
	var cli, srv, hb bytes.Buffer
	block := func(enc *hpack.Encoder, kv ...string) []byte {
		hb.Reset()
		for i := 0; i < len(kv); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return bytes.Clone(hb.Bytes())
	}
	ce, se := hpack.NewEncoder(&hb), hpack.NewEncoder(&hb)
	cli.WriteString(http2.Preface)
	cf, sf := xhttp2.NewFramer(&cli, nil), xhttp2.NewFramer(&srv, nil)
	cf.WriteSettings()
	cf.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: block(ce,
		":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello", ":authority", "localhost",
		"content-type", "application/grpc")})
	cf.WriteData(1, true, []byte{0, 0, 0, 0, 7, 0x0a, 0x05, 'w', 'o', 'r', 'l', 'd'})
	sf.WriteSettings()
	sf.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: block(se, ":status", "200", "content-type", "application/grpc")})
	sf.WriteData(1, false, []byte{0, 0, 0, 0, 13, 0x0a, 0x0b, 'H', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'})
	sf.WriteHeaders(xhttp2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true, BlockFragment: block(se, "grpc-status", "0")})

	c := http2.NewConn(nil, http2.HandlerFunc(func(x *http2.Exchange) {
		g := x.GRPC
		fmt.Printf("stream %d: %s %s -> %d, gRPC %s %s status %d, %d+%d messages\n", x.StreamID,
			x.Request.Method, x.Request.Path, x.Response.Status, g.Method, g.Kind, g.Status, g.RequestCount, g.ResponseCount)
	}))
	now := time.Now()
	c.Feed(0, cli.Bytes(), now) // side 0: the client (the TCP initiator), when known
	c.Feed(1, srv.Bytes(), now)
	c.Close(now)
	// Output:
	// stream 1: POST /helloworld.Greeter/SayHello -> 200, gRPC /helloworld.Greeter/SayHello unary status 0, 1+1 messages
}
