package http2_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/specter-dev/specter/reassembly/http2"
)

// The grpc-go examples module (google.golang.org/grpc/examples) is not on
// the module proxy this project may use, so the helloworld and route_guide
// services are declared here from their .proto files (descriptors built in
// code, messages as dynamicpb) and served by grpc-go itself through its
// generic service registration. The HTTP/2, HPACK and gRPC framing on the
// wire is grpc-go's own.

func field(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, msg string) *descriptorpb.FieldDescriptorProto {
	f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num),
		Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: typ.Enum(), JsonName: proto.String(name)}
	if msg != "" {
		f.TypeName = proto.String(msg)
	}
	return f
}

func methodProto(name, in, out string, cs, ss bool) *descriptorpb.MethodDescriptorProto {
	return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(in), OutputType: proto.String(out),
		ClientStreaming: proto.Bool(cs), ServerStreaming: proto.Bool(ss)}
}

// exampleFiles returns helloworld.proto and route_guide.proto as in grpc-go's
// examples.
func exampleFiles(t testing.TB) (hello, route protoreflect.FileDescriptor) {
	const (
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		i32 = descriptorpb.FieldDescriptorProto_TYPE_INT32
		msg = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	hp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("helloworld.proto"), Package: proto.String("helloworld"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("HelloRequest"), Field: []*descriptorpb.FieldDescriptorProto{field("name", 1, str, "")}},
			{Name: proto.String("HelloReply"), Field: []*descriptorpb.FieldDescriptorProto{field("message", 1, str, "")}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Greeter"), Method: []*descriptorpb.MethodDescriptorProto{
			methodProto("SayHello", ".helloworld.HelloRequest", ".helloworld.HelloReply", false, false)}}},
	}
	rp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("route_guide.proto"), Package: proto.String("routeguide"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Point"), Field: []*descriptorpb.FieldDescriptorProto{field("latitude", 1, i32, ""), field("longitude", 2, i32, "")}},
			{Name: proto.String("Rectangle"), Field: []*descriptorpb.FieldDescriptorProto{field("lo", 1, msg, ".routeguide.Point"), field("hi", 2, msg, ".routeguide.Point")}},
			{Name: proto.String("Feature"), Field: []*descriptorpb.FieldDescriptorProto{field("name", 1, str, ""), field("location", 2, msg, ".routeguide.Point")}},
			{Name: proto.String("RouteNote"), Field: []*descriptorpb.FieldDescriptorProto{field("location", 1, msg, ".routeguide.Point"), field("message", 2, str, "")}},
			{Name: proto.String("RouteSummary"), Field: []*descriptorpb.FieldDescriptorProto{field("point_count", 1, i32, ""),
				field("feature_count", 2, i32, ""), field("distance", 3, i32, ""), field("elapsed_time", 4, i32, "")}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("RouteGuide"), Method: []*descriptorpb.MethodDescriptorProto{
			methodProto("GetFeature", ".routeguide.Point", ".routeguide.Feature", false, false),
			methodProto("ListFeatures", ".routeguide.Rectangle", ".routeguide.Feature", false, true),
			methodProto("RecordRoute", ".routeguide.Point", ".routeguide.RouteSummary", true, false),
			methodProto("RouteChat", ".routeguide.RouteNote", ".routeguide.RouteNote", true, true),
		}}},
	}
	var err error
	if hello, err = protodesc.NewFile(hp, nil); err != nil {
		t.Fatal(err)
	}
	if route, err = protodesc.NewFile(rp, nil); err != nil {
		t.Fatal(err)
	}
	return hello, route
}

func newMsg(fd protoreflect.FileDescriptor, name string, set func(m *dynamicpb.Message)) *dynamicpb.Message {
	m := dynamicpb.NewMessage(fd.Messages().ByName(protoreflect.Name(name)))
	if set != nil {
		set(m)
	}
	return m
}

func setStr(m *dynamicpb.Message, f, v string) {
	m.Set(m.Descriptor().Fields().ByName(protoreflect.Name(f)), protoreflect.ValueOfString(v))
}

func setPoint(m *dynamicpb.Message, f string, lat, lon int32) {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(f))
	p := dynamicpb.NewMessage(fd.Message())
	p.Set(p.Descriptor().Fields().ByName("latitude"), protoreflect.ValueOfInt32(lat))
	p.Set(p.Descriptor().Fields().ByName("longitude"), protoreflect.ValueOfInt32(lon))
	m.Set(fd, protoreflect.ValueOfMessage(p))
}

// exampleServer registers Greeter and RouteGuide on s with handlers in the
// spirit of the examples' servers.
func exampleServer(s *grpc.Server, hello, route protoreflect.FileDescriptor) {
	unary := func(fd protoreflect.FileDescriptor, in string, h func(req *dynamicpb.Message) (any, error)) grpc.MethodHandler {
		return func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			req := newMsg(fd, in, nil)
			if err := dec(req); err != nil {
				return nil, err
			}
			return h(req)
		}
	}
	s.RegisterService(&grpc.ServiceDesc{ServiceName: "helloworld.Greeter", HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "SayHello", Handler: unary(hello, "HelloRequest", func(req *dynamicpb.Message) (any, error) {
			name := req.Get(req.Descriptor().Fields().ByName("name")).String()
			if name == "" {
				return nil, status.Error(codes.InvalidArgument, "name is required: 100% café")
			}
			return newMsg(hello, "HelloReply", func(m *dynamicpb.Message) { setStr(m, "message", "Hello "+name) }), nil
		})}},
	}, struct{}{})
	feature := func(lat, lon int32) *dynamicpb.Message {
		return newMsg(route, "Feature", func(m *dynamicpb.Message) {
			setStr(m, "name", "Berkshire Valley Management Area Trail, Jefferson, NJ, USA")
			setPoint(m, "location", lat, lon)
		})
	}
	s.RegisterService(&grpc.ServiceDesc{ServiceName: "routeguide.RouteGuide", HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "GetFeature", Handler: unary(route, "Point", func(req *dynamicpb.Message) (any, error) {
			return feature(409146138, -746188906), nil
		})}},
		Streams: []grpc.StreamDesc{
			{StreamName: "ListFeatures", ServerStreams: true, Handler: func(_ any, st grpc.ServerStream) error {
				if err := st.RecvMsg(newMsg(route, "Rectangle", nil)); err != nil {
					return err
				}
				for i := range int32(3) {
					if err := st.SendMsg(feature(400000000+i, -750000000)); err != nil {
						return err
					}
				}
				return nil
			}},
			{StreamName: "RecordRoute", ClientStreams: true, Handler: func(_ any, st grpc.ServerStream) error {
				n := int32(0)
				for {
					err := st.RecvMsg(newMsg(route, "Point", nil))
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						return err
					}
					n++
				}
				return st.SendMsg(newMsg(route, "RouteSummary", func(m *dynamicpb.Message) {
					m.Set(m.Descriptor().Fields().ByName("point_count"), protoreflect.ValueOfInt32(n))
					m.Set(m.Descriptor().Fields().ByName("distance"), protoreflect.ValueOfInt32(n*1000))
				}))
			}},
			{StreamName: "RouteChat", ServerStreams: true, ClientStreams: true, Handler: func(_ any, st grpc.ServerStream) error {
				for {
					in := newMsg(route, "RouteNote", nil)
					err := st.RecvMsg(in)
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					if err := st.SendMsg(in); err != nil {
						return err
					}
				}
			}},
		},
	}, struct{}{})
}

// recorder is a TCP proxy on loopback that keeps every byte each way, in
// the order it was read, as the capture of the connection.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) add(dir int, b []byte) {
	r.mu.Lock()
	r.events = append(r.events, event{dir: dir, data: append([]byte(nil), b...), ts: time.Now()})
	r.mu.Unlock()
}

func (r *recorder) pipe(dir int, dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.add(dir, buf[:n])
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// proxy listens on loopback and forwards one connection at a time to
// target, recording it. It returns its address.
func (r *recorder) proxy(t *testing.T, target string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				return
			}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); r.pipe(0, s, c); s.(*net.TCPConn).CloseWrite() }()
			go func() { defer wg.Done(); r.pipe(1, c, s); c.(*net.TCPConn).CloseWrite() }()
			go func() { wg.Wait(); c.Close(); s.Close() }()
		}
	}()
	return ln.Addr().String()
}

// snapshot returns the events recorded so far.
func (r *recorder) snapshot() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

// call is one RPC the test made, and what the parser must report for it.
type call struct {
	method       string
	kind         http2.StreamKind
	reqs, resps  int
	status       int
	errorMessage string
	gzip         bool // the request was sent with grpc-encoding: gzip
}

// runExamples makes the calls of the helloworld and route_guide example
// clients (and one failing call) over one recorded connection.
// cut is the number of events recorded after the second SayHello: a
// place to start a capture mid-connection.
func runExamples(t *testing.T) (events []event, calls []call, cut int) {
	hello, route := exampleFiles(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	exampleServer(srv, hello, route)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	rec := &recorder{}
	addr := rec.proxy(t, ln.Addr().String())
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"world", "specter", ""} {
		req := newMsg(hello, "HelloRequest", func(m *dynamicpb.Message) { setStr(m, "name", name) })
		err := cc.Invoke(ctx, "/helloworld.Greeter/SayHello", req, newMsg(hello, "HelloReply", nil))
		c := call{method: "/helloworld.Greeter/SayHello", kind: http2.Unary, reqs: 1, resps: 1}
		if name == "" {
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("SayHello(\"\"): %v", err)
			}
			c.resps, c.status, c.errorMessage = 0, int(codes.InvalidArgument), "name is required: 100% café"
		} else if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
		if len(calls) == 2 {
			cut = len(rec.snapshot())
		}
	}
	pt := newMsg(route, "Point", func(m *dynamicpb.Message) {
		m.Set(m.Descriptor().Fields().ByName("latitude"), protoreflect.ValueOfInt32(409146138))
		m.Set(m.Descriptor().Fields().ByName("longitude"), protoreflect.ValueOfInt32(-746188906))
	})
	if err := cc.Invoke(ctx, "/routeguide.RouteGuide/GetFeature", pt, newMsg(route, "Feature", nil)); err != nil {
		t.Fatal(err)
	}
	calls = append(calls, call{method: "/routeguide.RouteGuide/GetFeature", kind: http2.Unary, reqs: 1, resps: 1})
	if err := cc.Invoke(ctx, "/routeguide.RouteGuide/GetFeature", pt, newMsg(route, "Feature", nil), grpc.UseCompressor(gzip.Name)); err != nil {
		t.Fatal(err)
	}
	calls = append(calls, call{method: "/routeguide.RouteGuide/GetFeature", kind: http2.Unary, reqs: 1, resps: 1, gzip: true})

	stream := func(name string, cs, ss bool) grpc.ClientStream {
		st, err := cc.NewStream(ctx, &grpc.StreamDesc{StreamName: name, ClientStreams: cs, ServerStreams: ss}, "/routeguide.RouteGuide/"+name)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	drain := func(st grpc.ClientStream, msgName string) int {
		n := 0
		for {
			if err := st.RecvMsg(newMsg(route, msgName, nil)); errors.Is(err, io.EOF) {
				return n
			} else if err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	// ListFeatures: server streaming.
	st := stream("ListFeatures", false, true)
	rect := newMsg(route, "Rectangle", func(m *dynamicpb.Message) {
		setPoint(m, "lo", 400000000, -750000000)
		setPoint(m, "hi", 420000000, -730000000)
	})
	if err := st.SendMsg(rect); err != nil {
		t.Fatal(err)
	}
	st.CloseSend()
	calls = append(calls, call{method: "/routeguide.RouteGuide/ListFeatures", kind: http2.ServerStreaming, reqs: 1, resps: drain(st, "Feature")})
	// RecordRoute: client streaming.
	st = stream("RecordRoute", true, false)
	for i := range int32(5) {
		if err := st.SendMsg(newMsg(route, "Point", func(m *dynamicpb.Message) {
			m.Set(m.Descriptor().Fields().ByName("latitude"), protoreflect.ValueOfInt32(400000000+i))
		})); err != nil {
			t.Fatal(err)
		}
	}
	st.CloseSend()
	calls = append(calls, call{method: "/routeguide.RouteGuide/RecordRoute", kind: http2.ClientStreaming, reqs: 5, resps: drain(st, "RouteSummary")})
	// RouteChat: bidirectional streaming.
	st = stream("RouteChat", true, true)
	for i := range 4 {
		if err := st.SendMsg(newMsg(route, "RouteNote", func(m *dynamicpb.Message) {
			setPoint(m, "location", 0, int32(i%2))
			setStr(m, "message", "note")
		})); err != nil {
			t.Fatal(err)
		}
	}
	st.CloseSend()
	calls = append(calls, call{method: "/routeguide.RouteGuide/RouteChat", kind: http2.BidiStreaming, reqs: 4, resps: drain(st, "RouteNote")})

	cc.Close()
	// Wait until the proxy saw both directions close (the GOAWAY and the
	// last frames are written asynchronously).
	deadline := time.Now().Add(5 * time.Second)
	for n := -1; time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := len(rec.snapshot()); m == n {
			break
		} else {
			n = m
		}
	}
	return rec.snapshot(), calls, cut
}

func feedEvents(events []event, cfg *http2.Config) ([]*http2.Exchange, *http2.Conn) {
	var xs []*http2.Exchange
	c := http2.NewConn(cfg, http2.HandlerFunc(func(x *http2.Exchange) { xs = append(xs, x) }))
	for _, e := range events {
		c.Feed(e.dir, e.data, e.ts)
	}
	c.Close(time.Now())
	return xs, c
}

func TestGRPCExamples(t *testing.T) {
	events, calls, mark := runExamples(t)
	xs, c := feedEvents(events, nil)
	if len(xs) != len(calls) {
		t.Fatalf("got %d exchanges, made %d calls; stats %+v", len(xs), len(calls), c.Stats())
	}
	for i, want := range calls {
		x := xs[i]
		g := x.GRPC
		if g == nil {
			t.Errorf("call %d %s: not recognised as gRPC", i, want.method)
			continue
		}
		if x.Flags&^http2.FlagReset != 0 {
			t.Errorf("call %d %s: flags %#x", i, want.method, x.Flags)
		}
		if g.Method != want.method || g.Kind != want.kind || g.RequestCount != want.reqs || g.ResponseCount != want.resps ||
			g.Status != want.status || g.StatusMessage != want.errorMessage {
			t.Errorf("call %d: got %s %s %d/%d status %d %q, want %s %s %d/%d status %d %q", i,
				g.Method, g.Kind, g.RequestCount, g.ResponseCount, g.Status, g.StatusMessage,
				want.method, want.kind, want.reqs, want.resps, want.status, want.errorMessage)
		}
		if want.gzip != (g.RequestEncoding == "gzip") || want.gzip != g.Requests[0].Compressed {
			t.Errorf("call %d: request encoding %q, compressed %v; want gzip %v", i, g.RequestEncoding, g.Requests[0].Compressed, want.gzip)
		}
		for _, m := range append(append([]http2.GRPCMessage(nil), g.Requests...), g.Responses...) {
			if m.Truncated || int(m.Length) != len(m.Data) {
				t.Errorf("call %d: message %d/%d bytes, truncated %v", i, len(m.Data), m.Length, m.Truncated)
			}
		}
	}
	if st := c.Stats(); st.Desyncs != 0 || st.HPACKErrors != 0 || st.UnknownFields != 0 {
		t.Errorf("clean connection, stats %+v", st)
	}

	// The same connection cut to start mid-way: at the first client
	// segment after the second SayHello. The calls after the cut to
	// methods first used after it carry their :path as a literal and are
	// named; repeated methods refer to table entries from before the cut
	// and must come out unknown, never as another method.
	cut := mark
	for cut < len(events) && events[cut].dir != 0 {
		cut++
	}
	truth := map[uint32]string{}
	for _, x := range xs {
		truth[x.StreamID] = x.GRPC.Method
	}
	cxs, cc := feedEvents(events[cut:], nil)
	named := map[string]bool{}
	for _, x := range cxs {
		if x.GRPC == nil {
			if x.Request != nil && x.Request.Path != "" {
				t.Errorf("cut: stream %d %s not recognised as gRPC", x.StreamID, x.Request.Path)
			}
			continue
		}
		if x.GRPC.Method != "" {
			if x.GRPC.Method != truth[x.StreamID] {
				t.Errorf("cut: stream %d named %s, was %s", x.StreamID, x.GRPC.Method, truth[x.StreamID])
			}
			named[x.GRPC.Method] = true
		}
	}
	for _, m := range []string{"/routeguide.RouteGuide/GetFeature", "/routeguide.RouteGuide/ListFeatures",
		"/routeguide.RouteGuide/RecordRoute", "/routeguide.RouteGuide/RouteChat"} {
		if !named[m] {
			t.Errorf("cut: %s, first used after the cut, not named; stats %+v", m, cc.Stats())
		}
	}
	if cc.Stats().UnknownFields == 0 {
		t.Errorf("cut: expected fields from before the cut to be unknown; stats %+v", cc.Stats())
	}
}
