package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// writeConnPcap writes a capture of one TCP connection on which the client
// sends each of reqs and the server answers with the matching resps.
func writeConnPcap(t *testing.T, path string, reqs, resps []string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	client, server := net.IPv4(10, 0, 0, 1), net.IPv4(10, 0, 0, 2)
	seq := [2]uint32{1000, 5000} // client, server
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	buf := gopacket.NewSerializeBuffer()
	send := func(fromClient bool, flags string, payload []byte) {
		tcp := &layers.TCP{Window: 65535, SrcPort: 40000, DstPort: 80, Seq: seq[0], Ack: seq[1]}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: client, DstIP: server}
		d := 0
		if !fromClient {
			d = 1
			tcp.SrcPort, tcp.DstPort, tcp.Seq, tcp.Ack = 80, 40000, seq[1], seq[0]
			ip.SrcIP, ip.DstIP = server, client
		}
		tcp.SYN, tcp.ACK, tcp.PSH, tcp.FIN = strings.Contains(flags, "S"), strings.Contains(flags, "A"),
			strings.Contains(flags, "P"), strings.Contains(flags, "F")
		seq[d] += uint32(len(payload))
		if tcp.SYN || tcp.FIN {
			seq[d]++
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Millisecond)
		data := buf.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: now, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	send(true, "S", nil)
	send(false, "SA", nil)
	send(true, "A", nil)
	for i := range reqs {
		send(true, "PA", []byte(reqs[i]))
		send(false, "PA", []byte(resps[i]))
	}
	send(true, "FA", nil)
	send(false, "FA", nil)
	send(true, "A", nil)
}

// Credentials planted in the capture of TestExchangesRedacted.
const (
	plantedJWT    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ"
	plantedKey    = "k3yV4lu3-9f8a7b6c5d4e"
	plantedCookie = "s3ss10nC00k13V4lu3"
	plantedToken  = "qT0k3nInTh3Qu3ryStr1ng"
	plantedPass   = "hunter2-p4ssw0rd"
	plantedCard   = "4111111111111111"
	plantedSet    = "r3sp0ns3S3tC00k13"
	plantedPath   = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
)

func secretsCapture(t *testing.T) string {
	body := `{"user":"alice","password":"` + plantedPass + `","card":"` + plantedCard + `"}`
	req := "POST /v1/login/" + plantedPath + "?access_token=" + plantedToken + "&page=2 HTTP/1.1\r\n" +
		"Host: api.example.test\r\n" +
		"Authorization: Bearer " + plantedJWT + "\r\n" +
		"X-Api-Key: " + plantedKey + "\r\n" +
		"Cookie: sid=" + plantedCookie + "\r\n" +
		"Content-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	rbody := `{"ok":true}`
	resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: session=" + plantedSet + "; Path=/; HttpOnly\r\n" +
		"Content-Length: " + strconv.Itoa(len(rbody)) + "\r\n\r\n" + rbody
	path := filepath.Join(t.TempDir(), "secrets.pcap")
	writeConnPcap(t, path, []string{req}, []string{resp})
	return path
}

func TestExchangesRedacted(t *testing.T) {
	capture := secretsCapture(t)
	planted := []string{plantedJWT, plantedKey, plantedCookie, plantedToken, plantedPass, plantedCard, plantedSet, plantedPath}
	for _, format := range []string{"jsonl", "har"} {
		for _, raw := range []bool{false, true} {
			name := format
			args := []string{"exchanges", "--format", format, capture}
			if raw {
				name += "/raw"
				args = append(args, "--raw")
			}
			t.Run(name, func(t *testing.T) {
				out, errs, code := run(t, args...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errs)
				}
				if !strings.Contains(out, "/v1/login/") || !strings.Contains(out, "alice") {
					t.Fatalf("the exchange is missing:\n%s", out)
				}
				for _, s := range planted {
					if got := strings.Contains(out, s); got != raw {
						t.Errorf("secret %q in output: %v, want %v\n%s", s, got, raw, out)
					}
				}
				if warned := strings.Contains(errs, "--raw"); warned != raw {
					t.Errorf("warning on stderr: %v, want %v: %q", warned, raw, errs)
				}
				if !raw && !strings.Contains(out, "Bearer <redacted>") {
					t.Errorf("Authorization lost its scheme:\n%s", out)
				}
			})
		}
	}
}

func TestOutputFilesPrivate(t *testing.T) {
	capture := secretsCapture(t)
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.har")
	if err := os.WriteFile(existing, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		args []string
	}{
		{"exchanges jsonl", filepath.Join(dir, "x.jsonl"), []string{"exchanges", capture}},
		{"exchanges har over a 0644 file", existing, []string{"exchanges", "--format", "har", capture}},
		{"export", filepath.Join(dir, "api.yaml"), []string{"export", capture}},
		{"cpuprofile", filepath.Join(dir, "cpu.prof"), []string{"analyze", capture, "--cpuprofile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			switch tt.name {
			case "cpuprofile":
				args = append(args, tt.path)
			default:
				args = append(args, "-o", tt.path)
			}
			_, errs, code := run(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			fi, err := os.Stat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s has mode %#o, want 0600", tt.path, m)
			}
		})
	}
}

func TestEventsFilePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := openEvents(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.c.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("--events file has mode %#o, want 0600", m)
	}
}

// Exchanges keep header names as sent and their wire order, redacted or
// not: api_key stays api_key (not Api_key) and comes first.
func TestExchangesHeaderNames(t *testing.T) {
	req := "GET /items HTTP/1.1\r\napi_key: k3yV4lu3\r\nhost: shop.test\r\nX-Zeta: 1\r\nx-alpha: 2\r\nX-Zeta: 3\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nx-served-by: b\r\nContent-Length: 0\r\nAge: 1\r\n\r\n"
	capture := filepath.Join(t.TempDir(), "names.pcap")
	writeConnPcap(t, capture, []string{req}, []string{resp})
	type field struct{ Name, Value string }
	wantReq := []string{"api_key", "host", "X-Zeta", "x-alpha", "X-Zeta"}
	wantResp := []string{"x-served-by", "Content-Length", "Age"}
	names := func(fs []field) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return out
	}
	for _, raw := range []bool{false, true} {
		args := []string{"exchanges", capture}
		if raw {
			args = append(args, "--raw")
		}
		out, errs, code := run(t, args...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var x struct {
			Request  struct{ Headers []field } `json:"request"`
			Response struct{ Headers []field } `json:"response"`
		}
		if err := json.Unmarshal([]byte(out), &x); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got := names(x.Request.Headers); !slices.Equal(got, wantReq) {
			t.Errorf("raw %v: jsonl request headers %q, want %q", raw, got, wantReq)
		}
		if got := names(x.Response.Headers); !slices.Equal(got, wantResp) {
			t.Errorf("raw %v: jsonl response headers %q, want %q", raw, got, wantResp)
		}
		if v := x.Request.Headers[2].Value + x.Request.Headers[4].Value; v != "13" {
			t.Errorf("raw %v: repeated field values out of order: %q", raw, v)
		}
		if strings.Contains(out, "k3yV4lu3") != raw {
			t.Errorf("raw %v: api_key value in output: %v", raw, !raw)
		}

		out, errs, code = run(t, append([]string{"exchanges", "--format", "har"}, args[1:]...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var h struct {
			Log struct {
				Entries []struct {
					Request  struct{ Headers []field } `json:"request"`
					Response struct{ Headers []field } `json:"response"`
				} `json:"entries"`
			} `json:"log"`
		}
		if err := json.Unmarshal([]byte(out), &h); err != nil || len(h.Log.Entries) != 1 {
			t.Fatalf("HAR: %v: %s", err, out)
		}
		if got := names(h.Log.Entries[0].Request.Headers); !slices.Equal(got, wantReq) {
			t.Errorf("raw %v: HAR request headers %q, want %q", raw, got, wantReq)
		}
		if got := names(h.Log.Entries[0].Response.Headers); !slices.Equal(got, wantResp) {
			t.Errorf("raw %v: HAR response headers %q, want %q", raw, got, wantResp)
		}
	}
}
