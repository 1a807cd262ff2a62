package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

func TestDevDump(t *testing.T) {
	if os.Getenv("DEVDUMP") == "" {
		t.Skip()
	}
	paths, err := Expand([]string{"/work/shared/corpus/pcaps"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		if f := os.Getenv("DEVFILE"); f != "" && !strings.Contains(path, f) {
			continue
		}
		r, err := Open(path)
		if err != nil {
			fmt.Println(path, "OPEN", err)
			continue
		}
		d := NewDecoder(DecoderOptions{})
		var p Packet
		zones := map[Zone]int{}
		http := 0
		var ferr error
		errs := map[string]int{}
		for {
			f, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					ferr = err
				}
				break
			}
			ok, err := d.Decode(f, &p)
			if err != nil {
				errs[err.Error()[strings.Index(err.Error(), ":")+1:]]++
			}
			if ok {
				zones[p.Zone]++
				pl := p.TCP.Payload
				for _, m := range []string{"GET ", "POST ", "PUT ", "HEAD "} {
					if bytes.HasPrefix(pl, []byte(m)) {
						http++
					}
				}
			}
		}
		st := d.Stats()
		fmt.Printf("%s lt=%v frames=%d tcp=%d non=%d frag=%d reasm=%d err=%d http=%d zones=%v ferr=%v\n", path[len("/work/shared/corpus/pcaps/"):], r.LinkType(), st.Frames, st.TCP, st.NonTCP, st.Fragments, st.Reassembled, st.Errors, http, zones, ferr)
		n := 0
		for e, c := range errs {
			if n < 3 {
				fmt.Println("   ", c, e)
			}
			n++
		}
		r.Close()
	}
}
