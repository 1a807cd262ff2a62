package infer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/specter-dev/specter/infer/schema"
)

// JSON sequences. Streamed responses send one JSON document per record:
// NDJSON / JSON Lines (application/x-ndjson, application/jsonl), RFC 7464
// JSON text sequences (application/json-seq, each record after an RS
// byte), and streams labelled plain JSON that concatenate documents
// (application/stream+json, or application/json from a streaming
// endpoint). The body's schema is the schema of one record.

// maxSeqRecords bounds the records of one body fed to its schema; the
// rest are counted in Stats.SeqRecordsCut. A sampled stream of a few
// dozen records shows its record shape.
const maxSeqRecords = 64

// isJSONSeq reports whether a media type is a sequence of JSON documents.
func isJSONSeq(mt string) bool {
	switch mt {
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
		"application/jsonlines", "application/json-seq", "application/stream+json", "application/x-json-stream":
		return true
	}
	return false
}

// errNoRecords is a sequence body without a whole record.
var errNoRecords = errors.New("no JSON record")

// observeJSONSeq feeds each record of a JSON sequence body (at most
// maxSeqRecords) to n. A record that does not parse ends the body with an
// error; the records before it are kept.
func (m *Model) observeJSONSeq(n *schema.Node, body []byte) error {
	if bytes.IndexByte(body, 0x1e) >= 0 {
		// RFC 7464: records start with RS, which no JSON decoder skips.
		body = bytes.ReplaceAll(body, []byte{0x1e}, []byte{' '})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	records := 0
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if records == maxSeqRecords {
			m.Stats.SeqRecordsCut++
			continue
		}
		records++
		if err := n.ObserveJSON(raw, m.sopts); err != nil {
			return err
		}
	}
	if records == 0 {
		return errNoRecords
	}
	return nil
}

// streamedJSON reports whether a body that is not one JSON document is
// two or more of them, one after another (a stream sent as JSON).
func streamedJSON(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	for i := 0; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return i >= 2
		}
		if err != nil || i >= maxSeqRecords {
			return err == nil
		}
	}
}
