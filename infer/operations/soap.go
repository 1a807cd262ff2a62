package operations

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The SOAP envelope namespaces.
const (
	soap11NS = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12NS = "http://www.w3.org/2003/05/soap-envelope"
)

// looksSOAP is the cheap test that an XML body may be a SOAP envelope.
func looksSOAP(b []byte, mt, action string) bool {
	return mt == "application/soap+xml" || action != "" ||
		bytes.Contains(b, []byte(soap11NS)) || bytes.Contains(b, []byte(soap12NS))
}

// envelopeBody is what the first Body child of a SOAP envelope says.
type envelopeBody struct {
	version string // "1.1" or "1.2"
	name    string // the first Body child's local name
	space   string
	args    []string // its child elements' local names
}

// readEnvelope reads a SOAP envelope with a streaming decoder, up to the
// first Body child's children, within l's depth and field bounds.
func readEnvelope(b []byte, l Limits) (envelopeBody, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var out envelopeBody
	depth := 0
	inBody := false
	bodyDepth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if out.version == "" {
				return out, fmt.Errorf("no SOAP Envelope element: %w", ErrBad)
			}
			if out.name == "" {
				return out, fmt.Errorf("SOAP Envelope without a Body element child: %w", ErrBad)
			}
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("XML at byte %d: %v: %w", dec.InputOffset(), err, ErrBad)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > l.MaxDepth {
				return out, fmt.Errorf("XML elements nested past %d at byte %d: %w", l.MaxDepth, dec.InputOffset(), ErrTooDeep)
			}
			switch {
			case depth == 1:
				if t.Name.Local != "Envelope" || (t.Name.Space != soap11NS && t.Name.Space != soap12NS) {
					return out, fmt.Errorf("root element %q is not a SOAP Envelope: %w", t.Name.Local, ErrBad)
				}
				out.version = "1.1"
				if t.Name.Space == soap12NS {
					out.version = "1.2"
				}
			case depth == 2 && t.Name.Local == "Body" && (t.Name.Space == soap11NS || t.Name.Space == soap12NS):
				inBody, bodyDepth = true, depth
			case inBody && depth == bodyDepth+1:
				if out.name != "" {
					// Only the first Body child names the operation.
					return out, nil
				}
				out.name, out.space = t.Name.Local, t.Name.Space
			case inBody && depth == bodyDepth+2:
				if len(out.args) < l.MaxFields && !slices.Contains(out.args, t.Name.Local) {
					out.args = append(out.args, t.Name.Local)
				}
			}
		case xml.EndElement:
			if inBody && depth == bodyDepth+1 {
				return out, nil
			}
			if inBody && depth == bodyDepth {
				inBody = false
			}
			depth--
		}
	}
}

// detectSOAP is the call of a SOAP request: named by its action (the
// SOAPAction header, or the action parameter of application/soap+xml),
// else by the first Body child element.
func detectSOAP(body []byte, mt string, params map[string]string, x *Exchange, l Limits) (Result, error) {
	env, err := readEnvelope(body, l)
	if err != nil {
		return Result{}, fmt.Errorf("soap body: %w", err)
	}
	action := strings.Trim(strings.TrimSpace(x.SOAPAction), `"`)
	if a := params["action"]; mt == "application/soap+xml" && a != "" {
		action = a
	}
	if len(action) > 256 || hasControl(action) {
		return Result{}, fmt.Errorf("soap: action of %d bytes or with control characters: %w", len(action), ErrBad)
	}
	c := Call{Protocol: SOAP, Type: env.version, Name: action, Fields: []Field{{Name: env.name, Args: slices.Sorted(slices.Values(env.args))}}}
	if c.Name == "" {
		c.Name = env.name
	}
	if r := bytes.TrimSpace(x.RespBody); len(r) > 0 && r[0] == '<' && !x.RespPartial && len(r) <= l.MaxDocumentBytes {
		if renv, err := readEnvelope(r, l); err == nil && renv.name == "Fault" {
			c.Failed = true
		}
	}
	return Result{Calls: []Call{c}}, nil
}
