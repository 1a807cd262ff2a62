package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestSecrets writes pcapng files with Decryption Secrets Blocks before,
// between and after packets and checks that the reader hands each one out
// once, with its payload, by the time the frame after it is returned.
func TestSecrets(t *testing.T) {
	type block struct {
		secret []byte // nil: a packet
		typ    uint32
	}
	big := bytes.Repeat([]byte("CLIENT_RANDOM x y\n"), 200<<10/18)
	cases := []struct {
		name    string
		blocks  []block
		want    []string
		dropped uint64
	}{
		{"before packets", []block{{secret: []byte("A\n"), typ: SecretsTLSKeyLog}, {}, {}}, []string{"A\n"}, 0},
		{"between and after", []block{{}, {secret: []byte("B1"), typ: SecretsTLSKeyLog}, {}, {secret: []byte("B2"), typ: 0x57474b4c}}, []string{"B1", "B2"}, 0},
		{"larger than the read window", []block{{}, {secret: big, typ: SecretsTLSKeyLog}, {}}, nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
			if err != nil {
				t.Fatal(err)
			}
			frame := make([]byte, 60)
			for _, b := range tc.blocks {
				if b.secret != nil {
					if err := w.WriteDecryptionSecretsBlock(b.typ, b.secret); err != nil {
						t.Fatal(err)
					}
					continue
				}
				ci := gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(frame), Length: len(frame)}
				if err := w.WritePacket(ci, frame); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			r, err := OpenReader(bytes.NewReader(buf.Bytes()), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				_, err := r.Next()
				for _, s := range r.Secrets() {
					got = append(got, string(s.Data))
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("secrets %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("secret %d: %q, want %q", i, got[i], tc.want[i])
				}
			}
			if st := r.SecretsStats(); st.Dropped != tc.dropped || st.Blocks != uint64(len(tc.want)) {
				t.Errorf("stats %+v, want %d blocks, %d dropped", st, len(tc.want), tc.dropped)
			}
		})
	}
}
