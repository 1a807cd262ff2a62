package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"

	"github.com/specter-dev/specter/capture"
	"github.com/specter-dev/specter/capture/live"
	"github.com/specter-dev/specter/reassembly"
	"github.com/specter-dev/specter/reassembly/tlsdecrypt"
)

// Progress is what a progress line or a checkpoint reads while Files runs.
type Progress struct {
	File      atomic.Pointer[string]
	FileBytes atomic.Int64 // bytes of the current file read so far
	FileSize  atomic.Int64 // its size, 0 when unknown (stdin, pipes)
	DoneBytes atomic.Int64 // bytes of the files already finished
	Pipeline  atomic.Pointer[reassembly.Pipeline]
	// Packets and Bytes read so far, over all files, for checkpoints.
	Packets, Bytes atomic.Uint64
}

// FileStats is what Files' last Run read, beside reassembly's statistics.
type FileStats struct {
	Packets, Bytes uint64
	Decode         capture.DecodeStats
	// Corrupt records the readers skipped, and the bytes skipped with them.
	CorruptRecords, SkippedBytes uint64
	// Errors lists, in order, what went wrong with a file (it could not be
	// opened or read to its end, or holds frames of an unsupported link
	// type); the run went on with the next.
	Errors []string
	// Filtered counts the frames Files.Filter rejected (among Packets).
	Filtered uint64
	// KeyLog counts the TLS secrets the run's key log holds (from
	// --keylog files and the pcapng Decryption Secrets Blocks met).
	KeyLog tlsdecrypt.KeyLogStats
	// TLSServices lists what the TLS connections' handshakes told, by
	// server name.
	TLSServices []reassembly.TLSService
}

// Files is the capture-file source: every file of Paths in order ("-" is
// Stdin) through one decoder and one reassembly pipeline, so connections
// may span files. An error in one file is recorded and the run goes on
// with the next: what was decoded up to it still counts.
type Files struct {
	Paths    []string
	Stdin    io.Reader
	Config   reassembly.Config
	Emit     func(*reassembly.Exchange)
	Progress *Progress // may be nil
	// Filter, when set, keeps only the frames it matches (a BPF filter
	// expression, as tcpdump -r takes it); the others are counted in
	// FileStats.Filtered.
	Filter *live.FrameFilter

	stats FileStats
}

// Stats returns what the last Run read.
func (s *Files) Stats() FileStats { return s.stats }

// Run implements Source. Its error is the context's, wrapped: an
// interrupted run still flushes and reports every exchange it saw.
func (s *Files) Run(ctx context.Context, ctr *Counters) (reassembly.Stats, error) {
	st := &s.stats
	*st = FileStats{}
	prog := s.Progress
	dec := capture.NewDecoder(capture.DecoderOptions{})
	cfg := s.Config
	if cfg.TLS == nil {
		// Decryption Secrets Blocks may come anywhere in a pcapng file:
		// TLS records wait for their keys, within the Decryptor's bounds.
		cfg.TLS = tlsdecrypt.New(tlsdecrypt.NewKeyLog(0), tlsdecrypt.Config{})
	}
	keys := cfg.TLS.Keys()
	pipe := reassembly.New(cfg, s.Emit)
	if prog != nil {
		prog.Pipeline.Store(pipe)
	}
	var pkt capture.Packet
	var ctxErr error
	filterErrs := map[string]bool{} // one report per link type the filter cannot compile for
	for _, name := range s.Paths {
		if ctxErr = ctx.Err(); ctxErr != nil {
			break
		}
		if prog != nil {
			n := name
			prog.File.Store(&n)
		}
		var r *capture.Reader
		var err error
		if name == "-" {
			r, err = capture.OpenReader(s.Stdin, "stdin")
		} else {
			r, err = capture.Open(name)
		}
		if err != nil {
			st.Errors = append(st.Errors, err.Error())
			continue
		}
		if prog != nil {
			prog.FileSize.Store(r.Size())
		}
		// Frames of link types the decoder cannot read, per link type,
		// reported once per file rather than silently undecoded.
		var unsupported map[layers.LinkType]uint64
		for i := 0; ; i++ {
			if i&1023 == 0 {
				if ctxErr = ctx.Err(); ctxErr != nil {
					break
				}
				if prog != nil {
					prog.FileBytes.Store(r.BytesRead())
					prog.Packets.Store(st.Packets)
					prog.Bytes.Store(st.Bytes)
				}
				ctr.Packets.Store(st.Packets)
				ctr.Bytes.Store(st.Bytes)
			}
			f, err := r.Next()
			if err != nil {
				if ctxErr = ctx.Err(); ctxErr != nil {
					break // the read was cut by the interrupt, not bad input
				}
				if err != io.EOF {
					st.Errors = append(st.Errors, err.Error())
				}
				break
			}
			st.Packets++
			st.Bytes += uint64(len(f.Data))
			// Blocks before this frame were read with it.
			for _, ds := range r.Secrets() {
				st.addSecrets(keys, r.Name(), ds)
			}
			if s.Filter != nil {
				ok, err := s.Filter.Match(f)
				if err != nil && !filterErrs[err.Error()] {
					// Bounded: the filter compiles for a bounded number of
					// link types, each error is kept once.
					filterErrs[err.Error()] = true
					st.Errors = append(st.Errors, fmt.Sprintf("%s: offset %d: %v", name, f.Offset, err))
				}
				if !ok {
					st.Filtered++
					continue
				}
			}
			ok, err := dec.Decode(f, &pkt)
			if err != nil && errors.Is(err, capture.ErrUnsupportedLink) {
				if unsupported == nil {
					unsupported = make(map[layers.LinkType]uint64)
				}
				unsupported[f.LinkType]++
			}
			if err != nil || !ok {
				continue
			}
			pipe.Add(&pkt)
		}
		if prog != nil {
			prog.DoneBytes.Add(r.BytesRead())
			prog.FileBytes.Store(0)
			prog.Packets.Store(st.Packets)
			prog.Bytes.Store(st.Bytes)
		}
		for _, lt := range slices.Sorted(maps.Keys(unsupported)) {
			st.Errors = append(st.Errors, fmt.Sprintf("%s: link type %d (%s) is not supported: %d frames not decoded", r.Name(), uint32(lt), lt, unsupported[lt]))
		}
		rs := r.Stats()
		st.CorruptRecords += rs.CorruptRecords
		st.SkippedBytes += rs.SkippedBytes
		r.Close()
		if ctxErr != nil {
			break
		}
	}
	// Whatever happened, what is buffered is flushed.
	rs := pipe.Close()
	st.KeyLog = keys.Stats()
	st.TLSServices = pipe.TLSServices()
	st.Decode = dec.Stats()
	ctr.Packets.Store(st.Packets)
	ctr.Bytes.Store(st.Bytes)
	ctr.BoundDrops.Store(ReassemblyDrops(rs) + st.Decode.FragmentsDropped)
	ctr.Exchanges.Store(rs.Exchanges)
	if ctxErr != nil {
		return rs, fmt.Errorf("interrupted: %w", ctxErr)
	}
	return rs, nil
}

// addSecrets adds a pcapng Decryption Secrets Block's TLS key log to keys.
// Malformed lines are skipped; the first of each block is reported, by
// file, block offset and line (never the secret). Blocks of other secrets
// types (WireGuard, SSH, ...) are not used.
func (st *FileStats) addSecrets(keys *tlsdecrypt.KeyLog, file string, ds capture.DecryptionSecret) {
	if ds.Type != capture.SecretsTLSKeyLog {
		return
	}
	src := fmt.Sprintf("%s: decryption secrets block at offset %d", file, ds.Offset)
	if err := keys.AddDSB(ds.Data, src); err != nil {
		st.Errors = append(st.Errors, err.Error())
	}
}
