package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// spoolMagic starts every spool file, then one JSON header line, then the
// compressed delta.
const spoolMagic = "SPECTER-DELTA 1\n"

// spoolExt names the files of the spool; a file that does not parse is
// renamed with badExt and left for inspection (counted, never sent).
const (
	spoolExt = ".delta"
	badExt   = ".bad"
)

// encodeSpool is the bytes of a spool file.
func encodeSpool(h *header, payload []byte) ([]byte, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(spoolMagic) + len(hb) + 1 + len(payload))
	b.WriteString(spoolMagic)
	b.Write(hb)
	b.WriteByte('\n')
	b.Write(payload)
	return b.Bytes(), nil
}

// decodeSpool parses a spool file, naming the offset of what is wrong.
func decodeSpool(b []byte) (header, []byte, error) {
	var h header
	if !bytes.HasPrefix(b, []byte(spoolMagic)) {
		return h, nil, errors.New("offset 0: not a spooled delta (bad magic)")
	}
	rest := b[len(spoolMagic):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return h, nil, fmt.Errorf("offset %d: header line not terminated", len(spoolMagic))
	}
	if err := json.Unmarshal(rest[:nl], &h); err != nil {
		return h, nil, fmt.Errorf("offset %d: header: %w", len(spoolMagic), err)
	}
	if err := ValidSensorID(h.Sensor); err != nil {
		return h, nil, fmt.Errorf("offset %d: header: %w", len(spoolMagic), err)
	}
	if h.Seq == 0 {
		return h, nil, fmt.Errorf("offset %d: header: no sequence", len(spoolMagic))
	}
	return h, rest[nl+1:], nil
}

// spoolName is the file name of a delta: its zero-padded sequence, so
// that names sort in sending order.
func spoolName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, spoolExt) }

// spoolEntry is one file of the spool.
type spoolEntry struct {
	name string
	seq  uint64
	size int64
}

// listSpool returns the spool's deltas in sending order.
func listSpool(dir string) ([]spoolEntry, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("fleet: spool %s: %w", dir, err)
	}
	var out []spoolEntry
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, spoolExt) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, spoolExt), 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, spoolEntry{name: name, seq: seq, size: info.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

// writeFileSync writes b to path through a temporary file, synced and
// renamed, so that a crash leaves the old file or the new, never half.
func writeFileSync(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
