package tlsdecrypt

import (
	"compress/zlib"
	"errors"
	"io"
)

// compressionDeflate is the DEFLATE compression method of RFC 3749: after
// ChangeCipherSpec every record's plaintext of a direction is a piece of
// one zlib stream, each ending at a sync flush.
const compressionDeflate = 1

// maxInflated caps the plaintext one compressed record may expand to
// (RFC 5246, 6.2.2: 2^14 bytes, plus slack).
const maxInflated = 1<<14 + 1024

var errInflate = errors.New("record decompression failed")

// inflater decompresses one direction's zlib stream a record at a time.
// compress/zlib reads from an io.Reader and cannot be resumed after the
// input runs out, so it runs in its own goroutine, handed each record and
// handing back what it decoded; the handoffs are synchronous, so only one
// of the two runs at a time.
type inflater struct {
	in   chan []byte
	need chan struct{}
	out  []byte
	err  error
	done bool
}

// source is the reader the zlib goroutine pulls records from.
type source struct {
	cur  []byte
	in   <-chan []byte
	need chan<- struct{}
}

func (s *source) fill() bool {
	for len(s.cur) == 0 {
		s.need <- struct{}{}
		b, ok := <-s.in
		if !ok {
			return false
		}
		s.cur = b
	}
	return true
}

func (s *source) Read(p []byte) (int, error) {
	if !s.fill() {
		return 0, io.EOF
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}

func (s *source) ReadByte() (byte, error) {
	if !s.fill() {
		return 0, io.EOF
	}
	b := s.cur[0]
	s.cur = s.cur[1:]
	return b, nil
}

func newInflater() *inflater {
	f := &inflater{in: make(chan []byte), need: make(chan struct{})}
	src := &source{in: f.in, need: f.need}
	go f.run(src)
	<-f.need // the zlib header is read from the first record
	return f
}

func (f *inflater) run(src *source) {
	zr, err := zlib.NewReader(src)
	if err == nil {
		buf := make([]byte, 4096)
		for {
			var n int
			n, err = zr.Read(buf)
			if len(f.out)+n > maxInflated {
				err = errInflate
			} else {
				f.out = append(f.out, buf[:n]...)
			}
			if err != nil {
				break
			}
		}
	}
	f.err = err
	// Take and drop input until closed, so that feed never blocks.
	for src.fill() {
		src.cur = nil
	}
}

// feed decompresses the plaintext of one record.
func (f *inflater) feed(p []byte) ([]byte, error) {
	if f.done {
		return nil, errInflate
	}
	f.out = f.out[:0]
	f.in <- append([]byte(nil), p...)
	<-f.need
	if f.err != nil {
		return nil, errInflate
	}
	return f.out, nil
}

// close ends the goroutine.
func (f *inflater) close() {
	if !f.done {
		f.done = true
		close(f.in)
	}
}
